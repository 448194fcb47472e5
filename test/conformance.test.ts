// Loads test/conformance/zones through the import path and matches every case of expected.json
// (answers recorded from NSD and Knot) over real sockets, as test/conformance/README.md describes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startTestServer, importFile, CONFORMANCE } from './helpers/server.js';
import { query, type Response } from './helpers/dig.js';

type RR = [string, string, number, string];
interface Accept { rcode: string; aa: boolean; tc: boolean; answer: RR[] | null; authority: RR[] | null }
interface Case { name: string; type: string; transport: string; accept: Accept[]; additional_min: RR[]; any_of_records?: RR[] }

const cases = (JSON.parse(await readFile(new URL('expected.json', CONFORMANCE), 'utf8')) as { cases: Case[] }).cases;
const s = await startTestServer({ api: null });
await importFile(s, new URL('zones/shop.example.zone', CONFORMANCE));
await importFile(s, new URL('zones/registry.zone', CONFORMANCE), { delegationOnly: true });

const key = (r: RR) => `${r[0].toLowerCase()} ${r[1]} ${r[2]} ${r[3].toLowerCase()}`;
const sorted = (xs: string[]) => [...xs].sort();

function matches(got: Response, a: Accept): string | undefined {
  if (got.rcode !== a.rcode) return `rcode ${got.rcode} != ${a.rcode}`;
  if (got.aa !== a.aa) return `aa ${got.aa} != ${a.aa}`;
  if (got.tc !== a.tc) return `tc ${got.tc} != ${a.tc}`;
  if (a.tc) return undefined;
  if (a.answer && JSON.stringify(sorted(got.answer)) !== JSON.stringify(sorted(a.answer.map(key)))) return `answer ${JSON.stringify(sorted(got.answer))}`;
  if (a.authority && JSON.stringify(sorted(got.authority)) !== JSON.stringify(sorted(a.authority.map(key)))) return `authority ${JSON.stringify(sorted(got.authority))}`;
  return undefined;
}

for (const c of cases) {
  test(`${c.name} ${c.type} ${c.transport}`, async () => {
    const transport = c.transport === 'tcp' ? 'tcp' : 'udp';
    const got = await query(s.dnsPort(), c.name, c.type, { transport, edns: c.transport === 'udp512' ? null : 1232, rd: false });
    if (c.any_of_records) {
      const a = c.accept[0];
      assert.equal(got.rcode, a.rcode);
      assert.equal(got.aa, a.aa);
      assert.equal(got.tc, a.tc);
      assert.ok(got.answer.length > 0, 'ANY answer is non-empty');
      const allowed = new Set(c.any_of_records.map(key));
      for (const r of got.answer) assert.ok(allowed.has(r), `ANY answer record ${r} is not in the zone data`);
      return;
    }
    const why = c.accept.map((a) => matches(got, a));
    assert.ok(why.some((w) => w === undefined), `no accepted answer matches: ${why.join(' | ')}`);
    for (const r of c.additional_min) assert.ok(got.additional.includes(key(r)), `additional lacks ${key(r)}: ${JSON.stringify(got.additional)}`);
  });
}
