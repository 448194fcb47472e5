// The control socket of `glidepath serve --workers N`: a Unix socket (GLIDEPATH_CONTROL_SOCKET,
// default DATA_DIR/control.sock) where `glidepath restart` asks for a rolling restart and waits for
// its outcome (and `glidepath reload` for what SIGHUP does), as knotc and pdns_control do. One command per line, one JSON answer line.
import net from 'node:net';
import { mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ControlHandlers {
  restart(): Promise<number>;
  /** `glidepath reload`: what SIGHUP does; resolves with the refusal or failure, if any. */
  reload(): Promise<string | undefined>;
  status(): unknown;
  /** Workers wanted and answering, sent with the outcome of a restart. */
  counts(): { wanted: number; ready: number };
}

export interface ControlAnswer { ok: boolean; error?: string; [k: string]: unknown }

export async function listenControl(path: string, h: ControlHandlers): Promise<{ close(): Promise<void> }> {
  await mkdir(dirname(path), { recursive: true });
  // A socket file left by a server that was killed: remove it, unless something still answers there.
  if (await ask(path, 'status', 1000).then(() => true, () => false)) throw new Error(`another glidepath serve answers on ${path}`);
  await unlink(path).catch(() => undefined);
  const server = net.createServer((sock) => {
    let buf = '';
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (!buf.includes('\n') && buf.length < 256) return;
      const cmd = buf.split('\n')[0].trim();
      buf = '';
      const reply = (a: ControlAnswer) => sock.end(JSON.stringify(a) + '\n');
      if (cmd === 'restart') {
        h.restart().then((replaced) => reply({ ok: true, replaced, ...h.counts() }), (err: Error) => reply({ ok: false, error: err.message }));
      } else if (cmd === 'reload') {
        h.reload().then((error) => reply(error ? { ok: false, error } : { ok: true }), (err: Error) => reply({ ok: false, error: err.message }));
      } else if (cmd === 'status') {
        reply({ ok: true, ...(h.status() as object) });
      } else {
        reply({ ok: false, error: `unknown command "${cmd}" (restart, reload, status)` });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    close: () => new Promise<void>((resolve) => server.close(() => { void unlink(path).catch(() => undefined).then(() => resolve()); })),
  };
}

/** Sends one command and returns the JSON answer (rejects when nothing listens there). */
export function ask(path: string, cmd: string, timeoutMs: number): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer from ${path} within ${timeoutMs / 1000} s`)); }, timeoutMs);
    sock.on('connect', () => sock.write(cmd + '\n'));
    sock.on('data', (d: Buffer) => { buf += d.toString('utf8'); });
    sock.on('end', () => {
      clearTimeout(timer);
      try { resolve(JSON.parse(buf) as ControlAnswer); } catch { reject(new Error(`unreadable answer from ${path}: ${buf.slice(0, 200)}`)); }
    });
    sock.on('error', (err: Error & { code?: string }) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
        ? new Error(`no running "glidepath serve --workers" at ${path} (${err.code})`) : err);
    });
  });
}
