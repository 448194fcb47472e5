// V8 flags a DNS worker is forked with (added to the primary's own, unless the operator already
// gave the same flag on the `node` command line). A worker holds its whole snapshot on the heap
// (about 1.3 GB at a million domains) and allocates little per answer, and V8's defaults are
// tuned for the opposite. Measured on the 1M bench database with `--trace-gc` and
// `--trace-incremental-marking` (bench/RESULTS.md):
//  - the young generation stayed at V8's first size, 1 MiB a semi-space, because little of it
//    survives; under dnsperf a worker then scavenged 30 times a second at 5-12 ms each (a scavenge
//    of a large heap has a cost of its own whatever the young size), a quarter of its time.
//    16 MiB: about 3 a second, and a third more queries per second.
//  - the memory reducer starts a full mark some seconds after a worker's traffic drops, to give
//    memory back; the snapshot is live, so there is almost nothing to give, and the mark of 1.3 GB
//    took 0.9-1.6 s of the worker's main thread, with edits seen 100-330 ms late meanwhile (both
//    workers at once: their traffic drops together). Without it V8 still collects the old
//    generation when it reaches its limit, as it does under steady traffic.
const FLAGS: ReadonlyArray<[name: string, value: string]> = [
  ['--min-semi-space-size', '--min-semi-space-size=16'],
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
