// The conformance cases live in the repository (test/conformance/), so a plain clone tests itself.
// Where the shared reference folder sits beside the repository (../shared/conformance), the copy
// must be the same, byte for byte (README.md aside: this copy's says where it comes from); `node dist/test/conformance/record.js` records it anew from NSD
// and Knot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { SHARED, CONFORMANCE } from './helpers/server.js';

const shared = new URL('conformance/', SHARED);
const present = await stat(shared).then(() => true, () => false);

test('test/conformance matches ../shared/conformance', { skip: present ? false : '../shared/conformance is not beside this clone: nothing to compare' }, async () => {
  const files = ['expected.json', 'queries.txt', ...(await readdir(new URL('zones/', shared))).map((f) => `zones/${f}`)];
  for (const f of files) {
    assert.equal(await readFile(new URL(f, CONFORMANCE), 'utf8'), await readFile(new URL(f, shared), 'utf8'), `test/conformance/${f} differs from ../shared/conformance/${f}`);
  }
});
