// DNSSEC keys as the wire sees them (RFC 4034 2, 5): the DNSKEY RDATA of a key, its key tag
// (RFC 4034 Appendix B) and the DS digests the parent publishes. Pure: node:crypto computes, nothing
// here reads files or the database (key storage and decryption are in store/dnssec-keys.ts).
import { createHash, generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';

/** RFC 8624 algorithm numbers we sign with. */
export const ALGORITHMS = { ecdsap256sha256: 13, ed25519: 15 } as const;
export type AlgorithmName = keyof typeof ALGORITHMS;
export type Algorithm = (typeof ALGORITHMS)[AlgorithmName];

export function algorithmName(n: number): AlgorithmName {
  return n === 15 ? 'ed25519' : 'ecdsap256sha256';
}

/** RFC 4034 2.1.1: Zone Key (256) + Secure Entry Point (1). */
export const CSK_FLAGS = 257;

export type KeyState = 'published' | 'active' | 'retired';

/** A key ready to sign with (the private key decrypted) or only to publish. */
export interface SigningKey {
  readonly id: number;
  readonly algorithm: Algorithm;
  readonly flags: number;
  /** The DNSKEY public key field. */
  readonly publicKey: Uint8Array;
  readonly tag: number;
  readonly state: KeyState;
  readonly privateKey: KeyObject;
}

/** A domain's DNSSEC material as the DNS side holds it: its keys (private halves decrypted), and
 *  whether, signing turned off, it tells the parent to remove the DS (CDS delete, RFC 8078 4). */
export interface DomainDnssec {
  readonly keys: readonly SigningKey[];
  readonly cdsDelete: boolean;
}

/** A new key pair: the DNSKEY public key field and the PKCS #8 DER private key (to be encrypted). */
export function generateKey(algorithm: Algorithm): { publicKey: Buffer; privateDer: Buffer } {
  if (algorithm === 15) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    return { publicKey: Buffer.from(jwk.x!, 'base64url'), privateDer: privateKey.export({ format: 'der', type: 'pkcs8' }) };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  // RFC 6605 4: the public key is Q's x and y, 32 octets each, without the uncompressed-point prefix.
  return {
    publicKey: Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]),
    privateDer: privateKey.export({ format: 'der', type: 'pkcs8' }),
  };
}

export function privateKeyOf(der: Buffer): KeyObject {
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** DNSKEY RDATA (RFC 4034 2.1): flags, protocol 3, algorithm, public key. */
export function dnskeyRdata(k: { flags: number; algorithm: number; publicKey: Uint8Array }): Buffer {
  const b = Buffer.alloc(4 + k.publicKey.length);
  b.writeUInt16BE(k.flags, 0);
  b[2] = 3;
  b[3] = k.algorithm;
  b.set(k.publicKey, 4);
  return b;
}

/** RFC 4034 Appendix B: the key tag of a DNSKEY RDATA (not algorithm 1). */
export function keyTag(rdata: Uint8Array): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i] : rdata[i] << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

/** Owner name in canonical wire form (RFC 4034 6.2: lower case, uncompressed). */
export function canonicalName(name: string): Buffer {
  const parts: number[] = [];
  for (const l of name.replace(/\.$/, '').split('.').filter((x) => x.length)) {
    const b = Buffer.from(l.toLowerCase(), 'latin1');
    parts.push(b.length, ...b);
  }
  parts.push(0);
  return Buffer.from(parts);
}

/** DS RDATA digest (RFC 4034 5.1.4): digest(owner | DNSKEY RDATA); 2 = SHA-256 (RFC 4509), 4 = SHA-384 (RFC 6605). */
export function dsDigest(owner: string, rdata: Uint8Array, digestType: 2 | 4): Buffer {
  return createHash(digestType === 2 ? 'sha256' : 'sha384').update(canonicalName(owner)).update(rdata).digest();
}

/** DS RDATA: key tag, algorithm, digest type, digest. */
export function dsRdata(owner: string, k: { flags: number; algorithm: number; publicKey: Uint8Array }, digestType: 2 | 4): Buffer {
  const rdata = dnskeyRdata(k);
  const digest = dsDigest(owner, rdata, digestType);
  const b = Buffer.alloc(4 + digest.length);
  b.writeUInt16BE(keyTag(rdata), 0);
  b[2] = k.algorithm;
  b[3] = digestType;
  digest.copy(b, 4);
  return b;
}

/** Presentation forms, as a registrar's form or a zone file wants them. */
export function dnskeyText(k: { flags: number; algorithm: number; publicKey: Uint8Array }): string {
  return `${k.flags} 3 ${k.algorithm} ${Buffer.from(k.publicKey).toString('base64')}`;
}

export function dsText(owner: string, k: { flags: number; algorithm: number; publicKey: Uint8Array }, digestType: 2 | 4): string {
  const ds = dsRdata(owner, k, digestType);
  return `${ds.readUInt16BE(0)} ${k.algorithm} ${digestType} ${ds.subarray(4).toString('hex').toUpperCase()}`;
}
