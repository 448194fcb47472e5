// The longest stop a fold of the snapshot's maps costs at scale (src/snapshot/layered-map.ts): a
// map of N domain names folded inside a change (what every change that made the layer due paid
// before) against the same fold in steps (what the change feed runs between answers now), in
// process, three times each.
//   npm run -s build && node dist/bench/fold.js [--entries N]   (1,100,000: the 1M bench's domains)
import { LayeredMap } from '../src/snapshot/layered-map.js';

const i = process.argv.indexOf('--entries');
const entries = i >= 0 ? Number(process.argv[i + 1]) : 1_100_000;
const base = new Map<string, { i: number }>();
for (let k = 0; k < entries; k++) base.set(`cust${k}.test.`, { i: k });
const m = LayeredMap.of(base);
for (let run = 1; run <= 3; run++) {
  let t = performance.now();
  m.with([], true);
  const inside = performance.now() - t;
  const steps = m.foldSteps();
  let count = 0, longest = 0, total = 0;
  for (;;) {
    t = performance.now();
    const r = steps.next();
    const ms = performance.now() - t;
    count++; total += ms; longest = Math.max(longest, ms);
    if (r.done) break;
  }
  console.log(JSON.stringify({ entries, run, insideChangeMs: Math.round(inside), steps: count, longestStepMs: Math.round(longest), stepsTotalMs: Math.round(total) }));
}
