// AAAA presentation form (RFC 4291 2.2): every form the RFC allows parses to its 16 octets, and
// what it does not allow is refused (the parser is hand-written for load speed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { ipv6, ipv6Text } from '../../src/dns/rdata-text.js';

const parsed = (s: string) => { try { return ipv6Text(ipv6(s)); } catch { return 'refused'; } };

test('the three forms of RFC 4291 2.2 parse; ipv6Text gives RFC 5952 back', () => {
  const cases: Array<[string, string]> = [
    ['::', '::'], ['::1', '::1'], ['1::', '1::'], ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'], ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'], ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'], ['::192.0.2.1', '::c000:201'], ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4:5:6:c000:201'],
    ['abcd:EF01::', 'abcd:ef01::'], ['2001:db8:1::ab9:C0A8:102', '2001:db8:1::ab9:c0a8:102'],
  ];
  for (const [text, want] of cases) assert.equal(parsed(text), want, text);
});

test('what RFC 4291 does not allow is refused, as node:net judges it', () => {
  const refused = ['', ':', ':::', '1:::2', '1::2::3', ':1::2', '1::2:', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7',
    '1:2:3:4::5:6:7:8', '::1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8::', '1:2:3:4:5:6:7:192.0.2.1', '192.0.2.1', '::a.1.2.3',
    '::1.2.3', '::1.2.3.4.5', '::1.2.3.256', '::1.2.3.4:5', 'g::1', 'fe80::1%eth0', ' ::1', '::1 '];
  for (const text of refused) {
    assert.equal(parsed(text), 'refused', text);
    assert.equal(isIPv6(text) && !text.includes('%'), false, `node:net agrees on ${text}`);
  }
});
