// V8 flags a DNS worker is forked with (added to the primary's own, unless the operator already
// gave the same flag on the `node` command line). A worker holds its whole snapshot on the heap
// (about 1.3 GB at a million domains), nearly all of it live.
//  - No memory reducer: V8 starts a full mark some seconds after a worker's traffic drops, to give
//    memory back. The snapshot is live, so there is almost nothing to give, and the mark of 1.3 GB
//    took 0.9-1.6 s of the worker's main thread, with edits seen 100-330 ms late meanwhile, in
//    both workers at once, since their traffic drops together (`--trace-gc
//    --trace-incremental-marking` on the 1M bench database, "Start (memory reducer)"). Without it
//    V8 still collects the old generation when it reaches its limit, as under steady traffic.
//  - Tried and left out: --min-semi-space-size=16. It cut scavenges under dnsperf from 30 to 3 a
//    second, but in one 1M bench run each, with it gave 27k queries/s and an own-zone edit p99
//    of 52 ms, without it 33k and 72 ms (both within the spread between runs), and it cost
//    0.7 GiB more RSS (bench/RESULTS.md, runs J and K).
const FLAGS: ReadonlyArray<[name: string, value: string]> = [
  ['--memory-reducer', '--no-memory-reducer'],
];

/** The primary's execArgv with the worker flags it does not set itself. */
export function workerExecArgv(own: readonly string[]): string[] {
  const given = (name: string) => own.some((a) => {
    const bare = a.split('=')[0].replace(/_/g, '-');
    return bare === name || bare === name.replace(/^--/, '--no-');
  });
  return [...own, ...FLAGS.filter(([name]) => !given(name)).map(([, flag]) => flag)];
}
