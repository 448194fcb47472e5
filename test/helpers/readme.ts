// The README's shell examples, for the tests that run them as written (test/readme.test.ts,
// test/stats/readme-example.test.ts, test/includes/readme.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The `n`th ```sh block after `heading` (0: the first). */
export function shBlock(heading: string, n: number): string {
  const from = readme.indexOf(heading);
  assert.ok(from >= 0, `README has "${heading}"`);
  const block = [...readme.slice(from).matchAll(/```sh\n([\s\S]*?)```/g)][n];
  assert.ok(block, `README has a sh block ${n} after "${heading}"`);
  return block[1];
}

/** The node:test skip option for tests that need the tools the examples call (curl, jq, dig). */
export function skipWithoutTools(tools = ['curl', 'jq', 'dig']): string | false {
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  return missing.length ? `needs ${missing.join(', ')}` : false;
}
