// One full, compacting garbage collection right after a large first load, before this process
// answers. Building a million-domain snapshot leaves the heap at about 2 GB, a third of it garbage
// promoted while the build ran; V8 collects it on its own a little later, when the process is
// answering, in one pause of 0.4-1.2 s (`--trace-gc` on the 1M bench: "Mark-Compact (reduce) 1920
// -> 1342 MB, 410 ms" and "2047 -> 1343 MB, 1185 ms"), which stopped answers and edits for that
// long. Done here, the pause is part of the load and the heap starts compact.
import v8 from 'node:v8';
import vm from 'node:vm';

/** Domains from which the collection is worth a pause (a few ms below, about a second at 1M). */
export const COMPACT_FROM_DOMAINS = 50_000;

let gc: (() => void) | undefined;

/** Collects everything now; how long it took and the heap before and after (MiB). */
export function compactHeap(): { ms: number; beforeMiB: number; afterMiB: number } {
  if (!gc) {
    // The flag makes V8 give new contexts a gc() function; the process's own globals stay as they
    // were (no global gc appears).
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  gc();
  return { ms: Math.round(performance.now() - t0), beforeMiB: Math.round(before / 2 ** 20), afterMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) };
}
