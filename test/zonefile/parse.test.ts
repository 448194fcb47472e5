// The master-file parser (RFC 1035 5) on its own, no database: each syntax feature once, with the
// exact records it must produce in stored form (owner relative lower-case key, "@" the apex, rdata
// in canonical presentation with names at or under the apex relative); every supported record type
// parses, is written back by the writer, and parses to the same records; errors name their line and
// the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZoneFile, leadingOrigin, ZoneFileError, type ZoneFileRecord } from '../../src/zonefile/parse.js';
import { writeZoneFile } from '../../src/zonefile/write.js';
import { toStored, zoneText } from '../../src/store/zone-file-io.js';
import { parseAbsoluteName } from '../../src/dns/name.js';
import { TYPE } from '../../src/dns/constants.js';

const APEX = parseAbsoluteName('t.example.');

type Row = [owner: string, type: number, ttl: number, rdata: string];
const rowsOf = (rs: ZoneFileRecord[]): Row[] => toStored(rs).map((r) => [r.owner, r.type, r.ttl, r.rdata]);
const sorted = (rs: Row[]) => [...rs].sort((a, b) => (a.join('\u0001') < b.join('\u0001') ? -1 : 1));

function parse(text: string, apex = APEX): Row[] {
  return rowsOf(parseZoneFile(text, { origin: apex }));
}

/** Parses `text`, writes it back both ways (parsed records -> file, stored rows -> file) and checks
 *  that each written file parses to the same records. Returns the records. */
function roundTrip(text: string, apex = APEX): Row[] {
  const records = parseZoneFile(text, { origin: apex });
  const first = rowsOf(records);
  const written = writeZoneFile(apex, records);
  assert.deepEqual(sorted(parse(written, apex)), sorted(first), `writeZoneFile output parses back the same:\n${written}`);
  const fromDb = zoneText(apex, toStored(records));
  assert.deepEqual(sorted(parse(fromDb, apex)), sorted(first), `zoneText output parses back the same:\n${fromDb}`);
  assert.equal(zoneText(apex, toStored(parseZoneFile(fromDb, { origin: apex }))), fromDb, 'and the written text is stable');
  return first;
}

function parseError(text: string, apex = APEX): ZoneFileError {
  try {
    parseZoneFile(text, { origin: apex });
  } catch (e) {
    assert.ok(e instanceof ZoneFileError, `a ZoneFileError, not ${String(e)}`);
    return e;
  }
  assert.fail(`no error for:\n${text}`);
}

function assertError(text: string, line: number, message: RegExp): void {
  const e = parseError(text);
  assert.equal(e.line, line, `line of "${e.message}" in:\n${text}`);
  assert.match(e.message, message);
}

// ---- syntax features, one each ------------------------------------------------------------------

test('$ORIGIN and @: @ is the current origin; names after a later $ORIGIN are relative to it', () => {
  assert.deepEqual(parse([
    '$ORIGIN t.example.',
    '$TTL 300',
    '@ A 192.0.2.1',
    '$ORIGIN sub.t.example.',
    '@ A 192.0.2.2',
    'www A 192.0.2.3',
    'mx MX 10 mail',
    '$ORIGIN t.example.',
    'back A 192.0.2.4',
  ].join('\n')), [
    ['@', 1, 300, '192.0.2.1'],
    ['sub', 1, 300, '192.0.2.2'],
    ['www.sub', 1, 300, '192.0.2.3'],
    ['mx.sub', 15, 300, '10 mail.sub'],
    ['back', 1, 300, '192.0.2.4'],
  ]);
});

test('a relative $ORIGIN is completed with the current origin (RFC 1035 5.1), as BIND and NSD read it', () => {
  assert.deepEqual(parse([
    '$TTL 300',
    '$ORIGIN sub',
    'www A 192.0.2.1',
    '$ORIGIN deeper',
    '@ A 192.0.2.2',
    '$ORIGIN t.example.',
    'top A 192.0.2.3',
  ].join('\n')), [
    ['www.sub', 1, 300, '192.0.2.1'],
    ['deeper.sub', 1, 300, '192.0.2.2'],
    ['top', 1, 300, '192.0.2.3'],
  ]);
  assert.equal(leadingOrigin('$ORIGIN sub\nwww A 192.0.2.1\n'), undefined, 'a leading relative $ORIGIN names no origin of its own');
  assert.equal(leadingOrigin('$TTL 60\n$ORIGIN t.example.\n'), 't.example.');
});

test('$TTL applies to records without a TTL, from where it stands; units like 1h30m are seconds', () => {
  assert.deepEqual(parse('$TTL 1h30m\na A 192.0.2.1\nb 60 A 192.0.2.2\nc A 192.0.2.3\n$TTL 2d\nd A 192.0.2.4\ne 1W A 192.0.2.5\n'), [
    ['a', 1, 5400, '192.0.2.1'],
    ['b', 1, 60, '192.0.2.2'],
    ['c', 1, 5400, '192.0.2.3'],
    ['d', 1, 172800, '192.0.2.4'],
    ['e', 1, 604800, '192.0.2.5'],
  ]);
});

test('without $TTL an omitted TTL is the last one given (RFC 1035 5.1); with none at all it is an error', () => {
  assert.deepEqual(parse('a 120 A 192.0.2.1\nb A 192.0.2.2\nc 7 A 192.0.2.3\nd A 192.0.2.4\n'), [
    ['a', 1, 120, '192.0.2.1'],
    ['b', 1, 120, '192.0.2.2'],
    ['c', 1, 7, '192.0.2.3'],
    ['d', 1, 7, '192.0.2.4'],
  ]);
  assertError('; no TTL anywhere\na A 192.0.2.1\n', 2, /no TTL/);
});

test('owners: relative, absolute under the apex, the apex itself, upper case; all stored as lower-case keys', () => {
  assert.deepEqual(parse('$TTL 60\nwww A 192.0.2.1\nWWW.Deep.T.EXAMPLE. A 192.0.2.2\nt.example. A 192.0.2.3\n*.wild A 192.0.2.4\n'), [
    ['www', 1, 60, '192.0.2.1'],
    ['www.deep', 1, 60, '192.0.2.2'],
    ['@', 1, 60, '192.0.2.3'],
    ['*.wild', 1, 60, '192.0.2.4'],
  ]);
});

test('an omitted owner (line starts with blank) is the previous record\'s, across comments and blank lines', () => {
  assert.deepEqual(parse('$TTL 60\nmail A 192.0.2.1\n; a comment\n\n\t AAAA 2001:db8::1\n  MX 10 @\nnext A 192.0.2.9\n   TXT "n"\n'), [
    ['mail', 1, 60, '192.0.2.1'],
    ['mail', 28, 60, '2001:db8::1'],
    ['mail', 15, 60, '10 @'],
    ['next', 1, 60, '192.0.2.9'],
    ['next', 16, 60, '"n"'],
  ]);
  assertError('$TTL 60\n  A 192.0.2.1\n', 2, /no owner/);
});

test('TTL and class may each be omitted and come in either order; type and class are case-insensitive', () => {
  assert.deepEqual(parse('$TTL 60\na IN 30 A 192.0.2.1\nb 30 IN A 192.0.2.2\nc 30 A 192.0.2.3\nd IN A 192.0.2.4\ne a 192.0.2.5\nf in txt x\n'), [
    ['a', 1, 30, '192.0.2.1'],
    ['b', 1, 30, '192.0.2.2'],
    ['c', 1, 30, '192.0.2.3'],
    ['d', 1, 60, '192.0.2.4'],
    ['e', 1, 60, '192.0.2.5'],
    ['f', 16, 60, '"x"'],
  ]);
  assertError('$TTL 60\na CH TXT "x"\n', 2, /class CH/);
});

test('parentheses continue a record over lines, with comments inside; later records keep their own line', () => {
  const text = [
    '$TTL 3600',                                   // 1
    '@ IN SOA ns1 hostmaster.t.example. (',       // 2
    '        2024010101 ; serial',                  // 3
    '        1h         ; refresh',                 // 4
    '        10m ( ) 1w ; retry, expire',           // 5
    '        300 )      ; minimum',                 // 6
    '  NS ns1',                                      // 7
    'txt TXT ( "one"',                              // 8
    '   "two" )',                                   // 9
    'ns1 A 192.0.2.53',                             // 10
  ].join('\n');
  const records = parseZoneFile(text, { origin: APEX });
  assert.deepEqual(rowsOf(records), [
    ['@', 6, 3600, 'ns1 hostmaster 2024010101 3600 600 604800 300'],
    ['@', 2, 3600, 'ns1'],
    ['txt', 16, 3600, '"one" "two"'],
    ['ns1', 1, 3600, '192.0.2.53'],
  ]);
  assert.deepEqual(records.map((r) => r.line), [2, 7, 8, 10]);
});

test('CRLF line endings and lower-case directives read the same as LF and upper case', () => {
  const lf = '$ORIGIN t.example.\n$TTL 60\n@ SOA ns1 hostmaster ( 1\n 2 3 4 5 )\nwww A 192.0.2.1\n';
  const crlf = lf.replace('$ORIGIN', '$origin').replace('$TTL', '$ttl').replace(/\n/g, '\r\n');
  assert.deepEqual(parse(crlf), parse(lf));
  assert.deepEqual(parseZoneFile(crlf, { origin: APEX }).map((r) => r.line), [3, 5]);
  assertError('$TTL 60\r\nok A 192.0.2.1\r\nbad A 192.0.2.256\r\n', 3, /192\.0\.2\.256/);
});

test('comments: whole lines, after records, not inside quotes, not when escaped', () => {
  assert.deepEqual(parse('; leading\n$TTL 60 ; ttl\na A 192.0.2.1;no space\nb TXT "x;y" ; real\nc TXT x\\;y\n   ;   indented comment only\n'), [
    ['a', 1, 60, '192.0.2.1'],
    ['b', 16, 60, '"x;y"'],
    ['c', 16, 60, '"x;y"'],
  ]);
});

test('quoted strings: several per record, spaces, escaped quote and backslash, parentheses, empty', () => {
  const rows = parse(String.raw`$TTL 60
t TXT "two words" bare "say \"hi\"" "back\\slash" "(not a group)" ""
`);
  assert.deepEqual(rows, [['t', 16, 60, String.raw`"two words" "bare" "say \"hi\"" "back\\slash" "(not a group)" ""`]]);
});

test('\\DDD: decimal escapes in strings and names; non-printable octets stay escaped', () => {
  assert.deepEqual(parse(String.raw`$TTL 60
d TXT "\065\066C" "\255\009" \032lead
a\046b A 192.0.2.1
sp\032ace CNAME x\040y
`), [
    ['d', 16, 60, String.raw`"ABC" "\255\009" " lead"`],
    [String.raw`a\.b`, 1, 60, '192.0.2.1'],
    [String.raw`sp\032ace`, 5, 60, String.raw`x\(y`],
  ]);
  assertError('$TTL 60\n\nd TXT "\\256"\n', 3, /256/);
});

test('RFC 3597: \\# for an unknown type, and for a known type (decoded to its usual form)', () => {
  assert.deepEqual(parse(String.raw`$TTL 60
u TYPE65280 \# 4 0A000001
u TYPE65281 \# 0
k A \# 4 C0000201
k TYPE16 \# 4 03616263
k MX \# ( 3 000A 00 )
k TYPE1 192.0.2.2
`), [
    ['u', 65280, 60, String.raw`\# 4 0A000001`],
    ['u', 65281, 60, String.raw`\# 0`],
    ['k', 1, 60, '192.0.2.1'],
    ['k', 16, 60, '"abc"'],
    ['k', 15, 60, '10 .'],
    ['k', 1, 60, '192.0.2.2'],
  ]);
});

test('RFC 3597: a name inside generic rdata is stored like the same name in presentation form', () => {
  // ns1.t.example. = 03 6e7331 01 74 07 6578616d706c65 00 (15 octets), under the apex.
  const generic = parse(String.raw`$TTL 60
@ NS \# 15 036e73310174076578616d706c6500
`);
  assert.deepEqual(generic, parse('$TTL 60\n@ NS ns1.t.example.\n'));
  assert.deepEqual(generic, [['@', 2, 60, 'ns1']]);
  roundTrip(String.raw`$TTL 60
@ NS \# 15 036e73310174076578616d706c6500
@ NS \# 11 036e7332056f7468657200
`);
});

test('names in rdata: relative to the origin, absolute under the apex made relative, outside kept absolute', () => {
  assert.deepEqual(parse('$TTL 60\na CNAME b\nc CNAME B.T.Example.\nd CNAME t.example.\ne CNAME elsewhere.example.\nf MX 0 .\n'), [
    ['a', 5, 60, 'b'],
    ['c', 5, 60, 'B'],
    ['d', 5, 60, '@'],
    ['e', 5, 60, 'elsewhere.example.'],
    ['f', 15, 60, '0 .'],
  ]);
});

// ---- every supported type -----------------------------------------------------------------------

const TYPES: Array<[type: string, code: number, input: string, canonical: string]> = [
  ['A', TYPE.A, '192.0.2.1', '192.0.2.1'],
  ['AAAA', TYPE.AAAA, '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ['AAAA', TYPE.AAAA, '::ffff:192.0.2.1', '::ffff:c000:201'],
  ['NS', TYPE.NS, 'ns1.t.example.', 'ns1'],
  ['NS', TYPE.NS, 'ns.other.example.', 'ns.other.example.'],
  ['CNAME', TYPE.CNAME, 'target', 'target'],
  ['SOA', TYPE.SOA, 'ns1 hostmaster 1 1h 10m 1w 5m', 'ns1 hostmaster 1 3600 600 604800 300'],
  ['MX', TYPE.MX, '10 mail.t.example.', '10 mail'],
  ['TXT', TYPE.TXT, 'plain "two words" "q\\"uote"', '"plain" "two words" "q\\"uote"'],
  ['SRV', TYPE.SRV, '10 60 5060 sip.other.example.', '10 60 5060 sip.other.example.'],
  ['PTR', TYPE.PTR, 'host.other.example.', 'host.other.example.'],
  ['CAA', TYPE.CAA, '0 issue "letsencrypt.org; validationmethods=dns-01"', '0 issue "letsencrypt.org; validationmethods=dns-01"'],
  ['CAA', TYPE.CAA, '128 iodef "mailto:security@t.example"', '128 iodef "mailto:security@t.example"'],
  ['NAPTR', TYPE.NAPTR, '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .', '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .'],
  ['NAPTR', TYPE.NAPTR, '100 50 "s" "SIP+D2U" "" _sip._udp', '100 50 "s" "SIP+D2U" "" _sip._udp'],
  ['TLSA', TYPE.TLSA, '3 1 1 ( 0123456789abcdef\n 0123456789ABCDEF )', '3 1 1 0123456789ABCDEF0123456789ABCDEF'],
  ['SSHFP', TYPE.SSHFP, '4 2 0123456789abcdef', '4 2 0123456789ABCDEF'],
  ['DS', TYPE.DS, '12345 13 2 0123456789abcdef 0123456789abcdef', '12345 13 2 0123456789ABCDEF0123456789ABCDEF'],
  ['HINFO', TYPE.HINFO, 'PC "Linux 6"', '"PC" "Linux 6"'],
  ['RP', TYPE.RP, 'admin.t.example. txt.other.example.', 'admin txt.other.example.'],
  ['SVCB', TYPE.SVCB, '1 svc-host alpn=h2,h3 port=8443 ipv4hint=192.0.2.7,192.0.2.8', '1 svc-host alpn=h2,h3 port=8443 ipv4hint=192.0.2.7,192.0.2.8'],
  ['SVCB', TYPE.SVCB, '0 pool.other.example.', '0 pool.other.example.'],
  ['HTTPS', TYPE.HTTPS, '1 . ipv6hint=2001:db8::1 no-default-alpn alpn=h3 ech=AEX+DQBB', '1 . alpn=h3 no-default-alpn ech=AEX+DQBB ipv6hint=2001:db8::1'],
  ['HTTPS', TYPE.HTTPS, '2 . key65000=opaque port=443', '2 . port=443 key65000=opaque'],
  ['DNAME', TYPE.DNAME, 'new.other.example.', 'new.other.example.'],
  ['TYPE65280', 65280, '\\# 3 ABCDEF', '\\# 3 ABCDEF'],
];

test('every supported type parses to its canonical stored form', () => {
  for (const [type, code, input, canonical] of TYPES) {
    assert.deepEqual(parse(`$TTL 60\nowner ${type} ${input}\n`), [['owner', code, 60, canonical]], `${type} ${input}`);
  }
});

test('every supported type in one zone: written back (both writers) and parsed again, the same records', () => {
  const text = '$ORIGIN t.example.\n$TTL 60\n' + TYPES.map(([type, , input], i) => `o${i} ${type} ${input}`).join('\n') + '\n';
  const rows = roundTrip(text);
  assert.equal(rows.length, TYPES.length);
  assert.deepEqual(new Set(rows.map((r) => r[1])), new Set(TYPES.map((t) => t[1])));
});

test('the writer: $ORIGIN first, then the SOA, the apex NS, the rest of the apex, then other owners', () => {
  const text = zoneText(APEX, [
    { owner: 'b', type: TYPE.A, ttl: 60, rdata: '192.0.2.2' },
    { owner: '@', type: TYPE.MX, ttl: 60, rdata: '10 b' },
    { owner: '@', type: TYPE.NS, ttl: 60, rdata: 'ns1' },
    { owner: 'a.b', type: TYPE.A, ttl: 60, rdata: '192.0.2.3' },
    { owner: '@', type: TYPE.SOA, ttl: 60, rdata: 'ns1 hostmaster 5 1 2 3 4' },
    { owner: 'a', type: TYPE.TXT, ttl: 60, rdata: '"x"' },
  ]);
  assert.equal(text, [
    '$ORIGIN t.example.',
    '@\t60\tIN\tSOA\tns1 hostmaster 5 1 2 3 4',
    '@\t60\tIN\tNS\tns1',
    '@\t60\tIN\tMX\t10 b',
    'a\t60\tIN\tTXT\t"x"',
    'b\t60\tIN\tA\t192.0.2.2',
    'a.b\t60\tIN\tA\t192.0.2.3',
    '',
  ].join('\n'));
});

test('owner labels that look like syntax are escaped when written and read back the same', () => {
  roundTrip(String.raw`$TTL 60
\$dollar TXT "x"
\@at TXT "x"
semi\;colon TXT "x"
paren\( TXT "x"
quote\" TXT "x"
sp\032ace TXT "x"
`);
});

// ---- SVCB and HTTPS (RFC 9460) ----------------------------------------------------------------

/** The SvcParams octets of a parsed SVCB or HTTPS record, in hex. */
function svcParamsHex(rdata: string): string {
  const [r] = parseZoneFile(`$TTL 60\ns SVCB ${rdata}\n`, { origin: APEX });
  const params = r.parts[2];
  assert.ok(params === undefined || params instanceof Uint8Array);
  return params ? Buffer.from(params).toString('hex') : '';
}

test('SVCB wire form matches the RFC 9460 Appendix D test vectors', () => {
  // D.2 Figure 3: port=53
  assert.equal(svcParamsHex('16 foo.example.com. port=53'), '000300020035');
  // D.2 Figure 5/6: an unknown key, plain and quoted with a \DDD escape
  assert.equal(svcParamsHex('1 foo.example.com. key667=hello'), '029b000568656c6c6f');
  assert.equal(svcParamsHex('1 foo.example.com. key667="hello\\210qoo"'), '029b000968656c6c6fd2716f6f');
  // D.2 Figure 7: two IPv6 hints, quoted
  assert.equal(svcParamsHex('1 foo.example.com. ( ipv6hint="2001:db8::1,2001:db8::53:1" )'),
    '00060020' + '20010db8000000000000000000000001' + '20010db8000000000000000000530001');
  // D.2 Figure 8: keys sorted on the wire, and the mandatory list in increasing order too
  assert.equal(svcParamsHex('16 foo.example.org. ( alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1 )'),
    '0000000400010004' + '00010009026832' + '0568332d3139' + '00040004c0000201');
  // D.2 Figure 9: an alpn value with an escaped comma and backslash, quoted and unquoted
  const fig9 = '0001000c' + '08665c6f6f2c626172' + '026832';
  assert.equal(svcParamsHex(String.raw`16 foo.example.org. alpn="f\\\\oo\\,bar,h2"`), fig9);
  assert.equal(svcParamsHex(String.raw`16 foo.example.org. alpn=f\\\092oo\092,bar,h2`), fig9);
});

test('SVCB: a quoted value means the same as the unquoted one, and reads back the same', () => {
  assert.deepEqual(parse('$TTL 60\ns HTTPS 1 . alpn="h2,h3" port="8443"\n'), parse('$TTL 60\ns HTTPS 1 . alpn=h2,h3 port=8443\n'));
  assert.deepEqual(parse('$TTL 60\ns HTTPS 1 . alpn="h2,h3"\n'), [['s', TYPE.HTTPS, 60, '1 . alpn=h2,h3']]);
  roundTrip(String.raw`$TTL 60
a SVCB 16 foo.example.org. alpn="f\\\\oo\\,bar,h2"
b SVCB 1 . key667="hello\210qoo" key668="with space"
`);
});

test('SVCB: RFC 9460 Appendix D.3 failure cases are errors naming the key', () => {
  const cases: Array<[string, RegExp]> = [
    ['1 foo.example.com. ( key123=abc key123=def )', /key123.*twice/],
    ['1 foo.example.com. mandatory', /mandatory needs a value/],
    ['1 foo.example.com. alpn', /alpn needs a value/],
    ['1 foo.example.com. port', /port needs a value/],
    ['1 foo.example.com. ipv4hint', /ipv4hint needs a value/],
    ['1 foo.example.com. ipv6hint', /ipv6hint needs a value/],
    ['1 foo.example.com. no-default-alpn=abc', /no-default-alpn takes no value/],
    ['1 foo.example.com. mandatory=key123', /mandatory lists key123/],
    ['1 foo.example.com. ( mandatory=mandatory )', /mandatory lists mandatory/],
    ['1 foo.example.com. ( mandatory=key123,key123 key123=abc )', /key123.*twice/],
    ['0 foo.example.com. alpn=h2', /AliasMode/],
    ['1 . port=65536', /65536/],
    ['1 . ipv4hint=192.0.2.300', /192\.0\.2\.300/],
    ['1 . nosuchkey=1', /nosuchkey/],
  ];
  for (const [rdata, re] of cases) {
    assertError(`$TTL 60\n; params\ns SVCB ${rdata}\n`, 3, re);
  }
});

// ---- errors name their line and the problem -------------------------------------------------------

test('errors carry the line of the record they are in and say what is wrong', () => {
  const head = '$ORIGIN t.example.\n$TTL 60\n@ SOA ns1 hostmaster (\n  1 2 3\n  4 5 )\n  NS ns1\n; comment\n\n'; // 8 lines
  const cases: Array<[string, number, RegExp]> = [
    // inside a multi-line parenthesised record: the line the record starts on
    ['x SOA ns1 hostmaster (\n 1 2 3\n 4 notanumber )\n', 9, /notanumber/],
    ['x MX ( 10\n  mail extra )\n', 9, /MX: unexpected "extra"/],
    ['www A 192.0.2.300\n', 9, /A: "192\.0\.2\.300" is not an IPv4 address/],
    ['www A 192.0.2\n', 9, /not an IPv4 address/],
    ['v6 AAAA 2001:db8::1::2\n', 9, /not an IPv6 address/],
    [`long TXT "ok" "${'x'.repeat(256)}"\n`, 9, /at most 255 octets, this one is 256/],
    ['f FOO 1\n', 9, /unknown record type "FOO"/],
    ['s HTTPS 1 . alpn=h2 bogus=1\n', 9, /unknown SvcParamKey "bogus"/],
    ['outside.example. CNAME t.example.\n', 9, /owner outside\.example\. is outside the zone apex t\.example\./],
    ['$ORIGIN other.example.\nwww CNAME x\n', 10, /outside the zone apex/],
    ['u TYPE65280 1 2 3\n', 9, /RFC 3597/],
    ['g A \\# 5 C000020101\n', 9, /octets left over/],
    ['g A \\# 4 C00002\n', 9, /says 4 octets but 3 follow/],
    ['x 2147483648 A 192.0.2.1\n', 9, /over 2147483647/],
    ['x A\n', 9, /A: missing address/],
    ['x A 192.0.2.1 192.0.2.2\n', 9, /unexpected "192\.0\.2\.2"/],
    ['x MX 10\n', 9, /MX: missing name/],
    ['x MX 65536 mail\n', 9, /65536 is over 65535/],
    ['x ANY 192.0.2.1\n', 9, /query type/],
    [`${'a'.repeat(64)} A 192.0.2.1\n`, 9, /over 63/],
    ['x CAA 0 is_sue "ca"\n', 9, /CAA: tag/],
    ['x TLSA 3 1 1 ABC\n', 9, /hex/],
    ['$INCLUDE other.zone\n', 9, /\$INCLUDE is not supported/],
    ['$TTL forever\n', 9, /\$TTL needs a TTL/],
    ['$ORIGIN\n', 9, /\$ORIGIN needs a name/],
    ['$GENERATE 1-2 x A 192.0.2.$\n', 9, /unknown directive \$GENERATE/],
  ];
  for (const [tail, line, re] of cases) {
    const e = parseError(head + tail);
    assert.equal(e.line, line, `${JSON.stringify(tail)}: ${e.message}`);
    assert.match(e.message, re, JSON.stringify(tail));
  }
});

test('unbalanced parentheses and quotes name the line they start on', () => {
  assertError('$TTL 60\na A 192.0.2.1\nb TXT ( "x"\n "y"\n', 3, /never closed/);
  assertError('$TTL 60\na A 192.0.2.1 )\n', 2, /without its "\("/);
  assertError('$TTL 60\n\na TXT "never closed\nb A 192.0.2.1\n', 3, /quoted string/);
});

test('a record after an error-free multi-line record is counted on its own line', () => {
  const text = '$TTL 60\n@ SOA ns1 hostmaster ( 1\n ; "quoted ( in a comment"\n 2 3 4 5 )\nw TXT "a;(" \\" ")"\nz A 192.0.2.999\n';
  assertError(text, 6, /192\.0\.2\.999/);
});
