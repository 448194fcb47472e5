// DNS over TLS (RFC 7858): the TCP framing and pipelining of serveStream() inside TLS, with the
// RFC 8310 profile's expectations: TLS 1.2 at least (1.3 preferred by negotiation), ALPN "dot"
// (RFC 7858 has none; "dot" is the IANA-registered id), server cipher preference, session
// resumption (Node's TLS 1.3 tickets and 1.2 session tickets are on by default).
// A handshake is non-blocking and bounded by a timeout; a failed one costs a debug log line.
// reload() swaps the certificate for new handshakes without touching open connections.
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import type { QueryContext } from './handle-query.js';
import { serveStream, listenStreams, ConnectionTable, drainDeadline, type StreamOptions, type TcpListener } from './tcp.js';
import { ListenError } from './listen-error.js';

export interface TlsMaterial { cert: string | Buffer; key: string | Buffer }

export interface TlsListener extends TcpListener {
  /** New certificate and key for the next handshakes. */
  reload(m: TlsMaterial): void;
}

const HANDSHAKE_TIMEOUT_MS = 5000;

function secureOptions(m: TlsMaterial): tls.SecureContextOptions {
  return { cert: m.cert, key: m.key, minVersion: 'TLSv1.2', honorCipherOrder: true };
}

export async function listenTls(addr: HostPort, ctx: QueryContext, log: Logger, opts: StreamOptions, material: TlsMaterial): Promise<TlsListener> {
  const table = new ConnectionTable(opts.maxConnections);
  let server: tls.Server;
  try {
    server = tls.createServer({
      ...secureOptions(material),
      ALPNProtocols: ['dot'],
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    }, (sock) => serveStream(sock, ctx, log, opts, table.add(sock)));
  } catch (err) {
    throw new ListenError(addr, 'tls', err as Error);
  }
  server.on('tlsClientError', (err, sock) => {
    log.debug({ err: err.message, from: sock.remoteAddress }, 'TLS handshake failed');
    sock.destroy();
  });
  return { ...(await listenStreams(server, table, addr, 'tls', log, drainDeadline(opts))), reload: (m) => server.setSecureContext(secureOptions(m)) };
}
