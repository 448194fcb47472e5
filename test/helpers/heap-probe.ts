// A Glidepath answering side (snapshot, change feed, DNS listener) in a child process started with
// `node --expose-gc`, so a suite can measure what its heap holds after a full collection. Driven
// over IPC: {t:'heap'} -> {t:'heap', bytes}; {t:'seq', seq} -> {t:'seq', ok} once the snapshot
// reflects that journal sequence; {t:'stop'}.
import { startServer } from '../../src/main.js';
import { createLogger } from '../../src/log.js';

type In = { t: 'heap' } | { t: 'seq'; seq: number } | { t: 'stop' };

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const server = await startServer({
  databaseUrl: process.env.DATABASE_URL, dns: [{ host: '127.0.0.1', port: 0 }], api: null, log: createLogger('silent'),
});
const send = (m: unknown) => process.send!(m);
process.on('message', (m: In) => {
  if (m.t === 'heap') {
    // Several passes: weak and finalization-held objects need more than one.
    for (let i = 0; i < 4; i++) gc();
    send({ t: 'heap', bytes: process.memoryUsage().heapUsed });
  } else if (m.t === 'seq') {
    void server.feed!.waitFor(m.seq, 60_000).then((ok) => send({ t: 'seq', ok }));
  } else if (m.t === 'stop') {
    void server.stop().then(() => process.exit(0));
  }
});
send({ t: 'ready', port: server.dnsPort() });
