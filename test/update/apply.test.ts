// RFC 2136 as pure functions: every prerequisite kind (3.2), the prescan (3.4.1), every update kind
// (3.4.2) with its special cases, and the update-policy patterns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toZoneRRs, checkPrerequisites, prescan, applyUpdates, type ZoneRR } from '../../src/update/apply.js';
import { nameMatches, allows } from '../../src/update/policy.js';
import { parseRdata } from '../../src/dns/rdata.js';
import { splitName } from '../../src/dns/name.js';
import { typeCode, RCODE, CLASS_IN, CLASS_ANY, CLASS_NONE, TYPE } from '../../src/dns/constants.js';
import type { StoredRecord } from '../../src/store/records.js';

const APEX = splitName('ex.example.').labels;
const abs = (t: string) => ({ labels: splitName(t).labels, relative: false });

/** An RR of a message: absolute owner, class, type, TTL and optional rdata text (absolute names). */
function rr(owner: string, cls: number, type: string, ttl = 0, rdata?: string): ZoneRR {
  const code = typeCode(type)!;
  const parts = rdata === undefined ? undefined : parseRdata(code, rdata, abs);
  const out = toZoneRRs([{ labels: splitName(owner).labels, type: code, cls, ttl, rdlength: parts ? 1 : 0, parts }], APEX);
  assert.ok(out.ok);
  return out.value[0];
}

const ZONE: StoredRecord[] = [
  { owner: '@', type: TYPE.SOA, ttl: 3600, rdata: 'ns1 hostmaster 5 3600 600 86400 300' },
  { owner: '@', type: TYPE.NS, ttl: 3600, rdata: 'ns1' },
  { owner: 'ns1', type: TYPE.A, ttl: 3600, rdata: '192.0.2.53' },
  { owner: 'www', type: TYPE.A, ttl: 300, rdata: '192.0.2.80' },
  { owner: 'www', type: TYPE.A, ttl: 300, rdata: '192.0.2.81' },
  { owner: 'mx', type: TYPE.MX, ttl: 300, rdata: '10 mail' },
  { owner: 'alias', type: TYPE.CNAME, ttl: 300, rdata: 'www' },
];

const rcode = (r: { ok: boolean; rcode?: number }) => (r.ok ? RCODE.NOERROR : r.rcode);
const show = (rs: StoredRecord[]) => rs.map((r) => `${r.owner} ${r.type} ${r.ttl} ${r.rdata}`).sort();

test('prerequisites (RFC 2136 3.2)', () => {
  const cases: [ZoneRR[], number][] = [
    [[rr('www.ex.example.', CLASS_ANY, 'ANY')], RCODE.NOERROR], // name in use
    [[rr('nope.ex.example.', CLASS_ANY, 'ANY')], RCODE.NXDOMAIN],
    [[rr('www.ex.example.', CLASS_ANY, 'A')], RCODE.NOERROR], // RRset exists
    [[rr('www.ex.example.', CLASS_ANY, 'AAAA')], RCODE.NXRRSET],
    [[rr('nope.ex.example.', CLASS_NONE, 'ANY')], RCODE.NOERROR], // name not in use
    [[rr('www.ex.example.', CLASS_NONE, 'ANY')], RCODE.YXDOMAIN],
    [[rr('www.ex.example.', CLASS_NONE, 'AAAA')], RCODE.NOERROR], // RRset does not exist
    [[rr('www.ex.example.', CLASS_NONE, 'A')], RCODE.YXRRSET],
    // Value-dependent: the whole RRset, compared on the wire form (names without case).
    [[rr('www.ex.example.', CLASS_IN, 'A', 0, '192.0.2.80'), rr('www.ex.example.', CLASS_IN, 'A', 0, '192.0.2.81')], RCODE.NOERROR],
    [[rr('www.ex.example.', CLASS_IN, 'A', 0, '192.0.2.80')], RCODE.NXRRSET],
    [[rr('mx.ex.example.', CLASS_IN, 'MX', 0, '10 MAIL.Ex.Example.')], RCODE.NOERROR],
    [[rr('mx.ex.example.', CLASS_IN, 'MX', 0, '20 mail.ex.example.')], RCODE.NXRRSET],
    [[rr('www.ex.example.', CLASS_ANY, 'A', 60)], RCODE.FORMERR], // TTL must be 0
    [[{ ...rr('www.ex.example.', CLASS_ANY, 'A'), rdlength: 4 }], RCODE.FORMERR],
    [[rr('www.ex.example.', 3, 'A')], RCODE.FORMERR], // class CH
  ];
  for (const [pre, want] of cases) assert.equal(rcode(checkPrerequisites(ZONE, pre, APEX)), want, JSON.stringify(pre));
  const outside = toZoneRRs([{ labels: splitName('www.other.example.').labels, type: 1, cls: CLASS_ANY, ttl: 0, rdlength: 0, parts: undefined }], APEX);
  assert.equal(rcode(outside), RCODE.NOTZONE);
});

test('prescan (RFC 2136 3.4.1.3)', () => {
  assert.equal(rcode(prescan([rr('a.ex.example.', CLASS_IN, 'A', 60, '192.0.2.1')])), RCODE.NOERROR);
  assert.equal(rcode(prescan([rr('a.ex.example.', CLASS_IN, 'ANY', 60)])), RCODE.FORMERR);
  assert.equal(rcode(prescan([rr('a.ex.example.', CLASS_ANY, 'A', 60)])), RCODE.FORMERR);
  assert.equal(rcode(prescan([rr('a.ex.example.', CLASS_NONE, 'ANY', 0)])), RCODE.FORMERR);
  assert.equal(rcode(prescan([rr('a.ex.example.', CLASS_NONE, 'A', 0)])), RCODE.FORMERR); // a single-RR delete needs rdata
  assert.equal(rcode(prescan([rr('a.ex.example.', 3, 'A', 0)])), RCODE.FORMERR);
});

test('updates (RFC 2136 3.4.2)', () => {
  const apply = (...u: ZoneRR[]) => show(applyUpdates(ZONE, u, APEX));
  // Add, with duplicate suppression; the set takes the new TTL.
  const added = apply(rr('www.ex.example.', CLASS_IN, 'A', 60, '192.0.2.80'), rr('www.ex.example.', CLASS_IN, 'A', 60, '192.0.2.82'));
  assert.deepEqual(added.filter((l) => l.startsWith('www ')), ['www 1 60 192.0.2.80', 'www 1 60 192.0.2.81', 'www 1 60 192.0.2.82']);
  // Names at or under the apex are stored relative, as the importer stores them.
  assert.ok(apply(rr('m2.ex.example.', CLASS_IN, 'MX', 60, '5 Mail.ex.example.')).includes('m2 15 60 5 Mail'));
  // Delete an RRset, a name, one RR (compared on the wire: names without case).
  assert.ok(!apply(rr('www.ex.example.', CLASS_ANY, 'A')).some((l) => l.startsWith('www ')));
  assert.ok(!apply(rr('mx.ex.example.', CLASS_ANY, 'ANY')).some((l) => l.startsWith('mx ')));
  assert.deepEqual(apply(rr('mx.ex.example.', CLASS_NONE, 'MX', 0, '10 MAIL.ex.example.')).filter((l) => l.startsWith('mx ')), []);
  assert.deepEqual(apply(rr('www.ex.example.', CLASS_NONE, 'A', 0, '192.0.2.80')).filter((l) => l.startsWith('www ')), ['www 1 300 192.0.2.81']);
  // 3.4.2.2: a CNAME beside other data, or data beside a CNAME, is ignored.
  assert.deepEqual(apply(rr('www.ex.example.', CLASS_IN, 'CNAME', 60, 'x.example.')), show(ZONE));
  assert.deepEqual(apply(rr('alias.ex.example.', CLASS_IN, 'A', 60, '192.0.2.1')), show(ZONE));
  // A CNAME replaces the CNAME.
  assert.ok(apply(rr('alias.ex.example.', CLASS_IN, 'CNAME', 60, 'mx.ex.example.')).includes('alias 5 60 mx'));
  // 3.4.2.3/4: the apex SOA and NS survive deletes; the last NS stays.
  assert.deepEqual(apply(rr('ex.example.', CLASS_ANY, 'ANY')), show(ZONE));
  assert.deepEqual(apply(rr('ex.example.', CLASS_ANY, 'NS')), show(ZONE));
  assert.deepEqual(apply(rr('ex.example.', CLASS_NONE, 'NS', 0, 'ns1.ex.example.')), show(ZONE));
  assert.deepEqual(apply(rr('ex.example.', CLASS_NONE, 'SOA', 0, 'ns1.ex.example. hostmaster.ex.example. 9 1 1 1 1')), show(ZONE));
  // The SOA is replaced only by a later serial.
  assert.deepEqual(apply(rr('ex.example.', CLASS_IN, 'SOA', 60, 'ns1.ex.example. hostmaster.ex.example. 4 1 1 1 1')), show(ZONE));
  assert.ok(apply(rr('ex.example.', CLASS_IN, 'SOA', 60, 'ns1.ex.example. hostmaster.ex.example. 6 1 1 1 1')).includes('@ 6 60 ns1 hostmaster 6 1 1 1 1'));
  // In order: add then delete the same RR leaves nothing.
  assert.ok(!apply(rr('n.ex.example.', CLASS_IN, 'A', 60, '192.0.2.9'), rr('n.ex.example.', CLASS_NONE, 'A', 0, '192.0.2.9')).some((l) => l.startsWith('n ')));
});

test('update-policy patterns', () => {
  assert.ok(nameMatches('_acme-challenge', '_acme-challenge'));
  assert.ok(nameMatches('_acme-challenge.*', '_acme-challenge.www'));
  assert.ok(nameMatches('_acme-challenge.*', '_acme-challenge.a.b'));
  assert.ok(!nameMatches('_acme-challenge.*', '_acme-challenge'));
  assert.ok(!nameMatches('_acme-challenge.*', 'www'));
  assert.ok(nameMatches('*', 'a.b'));
  assert.ok(!nameMatches('*', '@'));
  assert.ok(nameMatches('@', '@'));
  assert.ok(nameMatches('*.dyn', 'host.dyn'));
  assert.ok(!nameMatches('*.dyn', 'dyn'));
  assert.ok(nameMatches('WWW', 'www'));
  const rule = { key: 'k.', names: ['_acme-challenge', '_acme-challenge.*'], types: ['TXT'] };
  assert.ok(allows(rule, '_acme-challenge.www', TYPE.TXT));
  assert.ok(!allows(rule, '_acme-challenge.www', TYPE.A));
  assert.ok(!allows(rule, 'www', TYPE.TXT));
  assert.ok(!allows(rule, '_acme-challenge', TYPE.ANY)); // deleting every type needs "ANY"
  assert.ok(allows({ key: 'k.', names: ['@', '*'], types: ['ANY'] }, 'x', TYPE.ANY));
});
