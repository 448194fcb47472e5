// A worker of `glidepath serve --workers N`: loads its own snapshot, follows the journal, and answers
// on the UDP/TCP/TLS sockets the primary shares with it (node:cluster binds them in the primary, so
// they outlive any one worker). It does what the primary asks: reload, report stats, retire.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { startServer, feedState, type RunningServer } from '../main.js';
import type { FromWorker, ToWorker, WorkerStart } from './messages.js';

const send = (m: FromWorker) => { process.send?.(m); };

export async function runWorker(log: Logger): Promise<number> {
  const start = await new Promise<WorkerStart>((resolve) => {
    const onMessage = (m: ToWorker) => {
      if (m.t !== 'start') return;
      process.off('message', onMessage);
      resolve(m.start);
    };
    process.on('message', onMessage);
    send({ t: 'hello' });
  });
  const wlog = log.child({ worker: cluster.worker?.id });
  wlog.level = start.logLevel;
  let server: RunningServer;
  try {
    server = await startServer({ ...start, role: 'answer', api: null, log: wlog });
  } catch (err) {
    send({ t: 'failed', error: (err as Error).message });
    return 1;
  }
  send({ t: 'ready' });
  return new Promise<number>((resolve) => {
    let stopping: Promise<void> | undefined;
    const stop = (why: string) => (stopping ??= (async () => {
      wlog.info({ why }, 'worker stopping: draining connections');
      await server.stop();
      resolve(0);
    })());
    process.on('message', (m: ToWorker) => {
      if (m.t === 'reload') server.reload(m.o).catch((err: Error) => wlog.error({ err: err.message }, 'reload failed; keeping the old certificate'));
      else if (m.t === 'stats') send({ t: 'stats', id: m.id, stats: server.stats.state(), feed: feedState(server.feed!) });
      else if (m.t === 'retire') void stop('retired by the primary');
    });
    // The primary is gone (crashed or killed): nobody will retire us, so stop on our own.
    process.on('disconnect', () => { void stop('primary gone'); });
    // SIGINT (a terminal's ^C reaches the whole process group) and SIGHUP are the primary's to
    // handle; SIGTERM sent to a worker alone stops it, and the primary starts a new one.
    process.on('SIGINT', () => undefined);
    process.on('SIGHUP', () => undefined);
    process.on('SIGTERM', () => { void stop('SIGTERM'); });
  });
}
