import type { HostPort } from '../config.js';

/** A listener that could not start, said in one line an operator can act on. */
export class ListenError extends Error {
  /** The system error code (EADDRINUSE, ...), so a caller can retry what is worth retrying. */
  readonly code: string | undefined;

  constructor(addr: HostPort, proto: string, err: Error & { code?: string }) {
    const why = err.code === 'EADDRINUSE' ? 'address already in use'
      : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
      : err.code === 'EADDRNOTAVAIL' ? 'address not available on this host'
      : err.message;
    const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
    super(`cannot listen on ${host}:${addr.port}/${proto}: ${why}`);
    this.code = err.code;
  }
}
