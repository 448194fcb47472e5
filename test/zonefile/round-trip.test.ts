// Every record type the engine serves goes through the master-file parser and writer and comes back
// the same (records as stored: owner relative, canonical rdata); errors name their line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZoneFile, ZoneFileError } from '../../src/zonefile/parse.js';
import { toStored, zoneText } from '../../src/store/zone-file-io.js';
import { parseAbsoluteName } from '../../src/dns/name.js';

const apex = parseAbsoluteName('types.example.');
const FILE = String.raw`$ORIGIN types.example.
$TTL 3600
@        IN SOA ns1 hostmaster ( 7   ; serial
                  3600 600 86400 300 )
         IN NS  ns1
         NS     ns2.other.example.
ns1      A      192.0.2.1
v6       AAAA   2001:db8::1
www  300 CNAME  @
@        MX     10 mail
mail     A      192.0.2.25
txt      TXT    "one" "two \"quoted\" \059 semi" plain
_sip._tcp SRV   10 60 5060 sip
ptr      PTR    host.other.example.
@        CAA    0 issue "letsencrypt.org"
naptr    NAPTR  100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .
_443._tcp TLSA  3 1 1 ( 0123456789abcdef0123456789abcdef
                        0123456789abcdef0123456789abcdef )
ssh      SSHFP  4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
child    NS     ns.child
ns.child A      192.0.2.53
child    DS     12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
hinfo    HINFO  "PC" "Linux"
rp       RP     admin txt
svc      SVCB   1 svc-host alpn=h2,h3 port=8443 ipv4hint=192.0.2.7
@        HTTPS  1 . alpn=h2 ech=AEX+DQBB
old      DNAME  new.other.example.
generic  TYPE65280 \# 4 0a000001
`;

test('every supported type parses, writes back, and parses to the same records', () => {
  const first = toStored(parseZoneFile(FILE, { origin: apex }));
  const types = new Set(first.map((r) => r.type));
  // A NS CNAME SOA PTR HINFO MX TXT RP AAAA SRV NAPTR DS SSHFP TLSA SVCB HTTPS CAA DNAME + generic
  for (const t of [1, 2, 5, 6, 12, 13, 15, 16, 17, 28, 33, 35, 39, 43, 44, 52, 64, 65, 257, 65280]) assert.ok(types.has(t), `type ${t}`);
  assert.equal(first.find((r) => r.owner === 'www')!.rdata, '@', 'a name at the apex is stored relative');
  assert.equal(first.find((r) => r.owner === 'www')!.ttl, 300);
  const text = zoneText(apex, first);
  const second = toStored(parseZoneFile(text, { origin: apex }));
  const key = (rs: typeof first) => rs.map((r) => `${r.owner} ${r.type} ${r.ttl} ${r.rdata}`).sort();
  assert.deepEqual(key(second), key(first));
  assert.equal(zoneText(apex, second), text, 'and the text is stable');
});

test('errors name the line: inside parentheses, a bad address, a TXT string over 255, an unknown type, an owner outside the origin', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['@ SOA ns1 hostmaster (\n 1 2 3\n 4 x )\n', 1, /./],
    ['$TTL 60\n\nwww A 192.0.2.300\n', 3, /192\.0\.2\.300/],
    [`$TTL 60\nt TXT "${'x'.repeat(256)}"\n`, 2, /255/],
    ['$TTL 60\nx FOO 1\n', 2, /FOO/],
    ['$TTL 60\nelsewhere.example. A 192.0.2.1\n', 2, /outside/],
    ['$TTL 60\ns SVCB 1 . nosuchkey=1\n', 2, /nosuchkey/],
  ];
  for (const [text, line, re] of cases) {
    assert.throws(() => parseZoneFile(text, { origin: apex }), (e: unknown) => {
      assert.ok(e instanceof ZoneFileError, String(e));
      assert.equal(e.line, line, `${JSON.stringify(text)}: ${e.message}`);
      assert.match(e.message, re);
      return true;
    });
  }
});
