// A worker of `glidepath serve --workers N`: loads its own snapshot, follows the journal, and answers
// on the UDP/TCP/TLS sockets the primary shares with it (node:cluster binds them in the primary, so
// they outlive any one worker). It does what the primary asks: reload, report stats, retire.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { feedState } from '../feed/state.js';
import type { StartServer, Started } from './server.js';
import { LOADING_BEAT_MS, type FromWorker, type ToWorker, type WorkerStart } from './messages.js';
import { writeSeed } from '../feed/seed.js';

const send = (m: FromWorker) => { process.send?.(m); };

export async function runWorker(log: Logger, startServer: StartServer): Promise<number> {
  // Signals sent to the whole process group (a terminal's ^C, `systemctl kill`, `kill -HUP -PGID`)
  // are the primary's to act on; their default action would kill this worker, loading or not.
  // SIGTERM sent to a worker alone stops it (the primary starts another).
  for (const sig of ['SIGINT', 'SIGHUP', 'SIGUSR2'] as const) process.on(sig, () => undefined);
  // A retire can come at any time, even before the snapshot is loaded (the primary stopping
  // while this worker starts): remember it and honour it as soon as there is something to stop.
  let retireAsked = false;
  let onRetire: () => void = () => { retireAsked = true; };
  let onTerm: () => void = () => { retireAsked = true; };
  process.on('SIGTERM', () => onTerm());
  process.on('message', (m: ToWorker) => { if (m.t === 'retire') onRetire(); });
  const start = await new Promise<WorkerStart | undefined>((resolve) => {
    const onMessage = (m: ToWorker) => {
      if (m.t !== 'start') return;
      process.off('message', onMessage);
      resolve(m.start);
    };
    process.on('message', onMessage);
    onRetire = () => { retireAsked = true; resolve(undefined); };
    onTerm = onRetire;
    process.once('disconnect', () => resolve(undefined));
    send({ t: 'hello' });
  });
  if (!start || retireAsked) return 0;
  const wlog = log.child({ worker: cluster.worker?.id });
  wlog.level = start.logLevel;
  let server: Started;
  // A million domains take minutes to load on a busy machine: the primary waits as long as the
  // CPU this process uses keeps growing (primary.ts spawn()).
  const beat = setInterval(() => {
    const u = process.cpuUsage();
    send({ t: 'loading', cpuMs: Math.round((u.user + u.system) / 1000) });
  }, LOADING_BEAT_MS);
  try {
    const { connectMs, ...rest } = start;
    server = await startServer({ ...rest, db: { connectMs }, role: 'answer', api: null, log: wlog });
  } catch (err) {
    send({ t: 'failed', error: (err as Error).message, database: (err as { databaseUnavailable?: boolean }).databaseUnavailable === true });
    return 1;
  } finally {
    clearInterval(beat);
  }
  return new Promise<number>((resolve) => {
    let stopping: Promise<void> | undefined;
    const stop = (why: string) => (stopping ??= (async () => {
      wlog.info({ why }, 'worker stopping: draining connections');
      await server.stop();
      // Wait for the channel to take the message: the process exits right after.
      if (process.connected) {
        await new Promise<void>((done) => process.send!({ t: 'final', stats: server.stats.state() } satisfies FromWorker, undefined, undefined, () => done()));
      }
      resolve(0);
    })());
    onRetire = () => { void stop('retired by the primary'); };
    onTerm = () => { void stop('SIGTERM'); };
    if (retireAsked) { void stop('retired by the primary while starting'); return; }
    send({ t: 'ready' });
    process.on('message', (m: ToWorker) => {
      if (m.t === 'reload') server.reload(m.o).catch((err: Error) => wlog.error({ err: err.message }, 'reload failed; keeping the old certificate'));
      else if (m.t === 'stats') send({ t: 'stats', id: m.id, stats: server.stats.state(), feed: feedState(server.feed!) });
      else if (m.t === 'dump') {
        // Snapshot and sequence read in the same tick: they agree.
        writeSeed(server.feed!.snapshot(), server.feed!.seq, m.path).then(
          () => send({ t: 'dumped', id: m.id }),
          (err: Error) => send({ t: 'dumped', id: m.id, error: err.message }));
      }
    });
    // The primary is gone (crashed or killed): nobody will retire us, so stop on our own.
    process.on('disconnect', () => { void stop('primary gone'); });
  });
}
