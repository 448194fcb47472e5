// SQL of DNSSEC keys (migrations/010_dnssec.sql) and their encryption at rest: the private key is
// AES-256-GCM encrypted under the key-encryption key (store/key-file.ts), with the key's id and the
// domain as additional data, so a row copied onto another domain does not decrypt either.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Client } from './db.js';
import type { Queryable } from './tenants.js';
import { KeyFileError, type Kek, type KekHolder } from './key-file.js';
import { generateKey, privateKeyOf, dnskeyRdata, keyTag, CSK_FLAGS, algorithmName, dnskeyText, dsText, type Algorithm, type KeyState, type SigningKey, type DomainDnssec } from '../dnssec/keys.js';

export interface KeyRow {
  id: number;
  domain_id: number;
  algorithm: Algorithm;
  flags: number;
  public_key: Buffer;
  key_tag: number;
  state: KeyState;
  created_at: Date;
  next_at: Date | null;
}

interface SecretRow extends KeyRow { private_key: Buffer; kek_id: string }

const PUBLIC_COLUMNS = 'id, domain_id, algorithm, flags, public_key, key_tag, state, created_at, next_at';

function aad(domainId: number): Buffer {
  return Buffer.from(`glidepath-dnssec-key:${domainId}`);
}

export function encryptPrivate(kek: Kek, domainId: number, der: Buffer): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek.key, nonce);
  c.setAAD(aad(domainId));
  const body = Buffer.concat([c.update(der), c.final()]);
  return Buffer.concat([nonce, c.getAuthTag(), body]);
}

export function decryptPrivate(kek: Kek, row: { domain_id: number; private_key: Buffer; kek_id: string; id: number }): Buffer {
  if (row.kek_id !== kek.id) {
    throw new KeyFileError(`GLIDEPATH_KEY_FILE: ${kek.file} is not the key the DNSSEC keys were encrypted with (key id ${kek.id}, the database expects ${row.kek_id})`);
  }
  try {
    const d = createDecipheriv('aes-256-gcm', kek.key, row.private_key.subarray(0, 12));
    d.setAAD(aad(row.domain_id));
    d.setAuthTag(row.private_key.subarray(12, 28));
    return Buffer.concat([d.update(row.private_key.subarray(28)), d.final()]);
  } catch {
    throw new KeyFileError(`GLIDEPATH_KEY_FILE: DNSSEC key ${row.id} does not decrypt with ${kek.file} (damaged row or wrong key file)`);
  }
}

/** A new active combined signing key (CSK) for the domain, stored encrypted. */
export async function addKey(c: Client, kek: Kek, domainId: number, algorithm: Algorithm, state: KeyState = 'active'): Promise<KeyRow> {
  const { publicKey, privateDer } = generateKey(algorithm);
  const tag = keyTag(dnskeyRdata({ flags: CSK_FLAGS, algorithm, publicKey }));
  const { rows } = await c.query<KeyRow>(
    `INSERT INTO dnssec_keys (domain_id, algorithm, flags, public_key, private_key, kek_id, key_tag, state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${PUBLIC_COLUMNS}`,
    [domainId, algorithm, CSK_FLAGS, publicKey, encryptPrivate(kek, domainId, privateDer), kek.id, tag, state]);
  privateDer.fill(0);
  return rows[0];
}

/** Public parts of the domain's keys, oldest first. */
export async function domainKeys(c: Queryable, domainId: number): Promise<KeyRow[]> {
  const { rows } = await c.query<KeyRow>(`SELECT ${PUBLIC_COLUMNS} FROM dnssec_keys WHERE domain_id = $1 ORDER BY id`, [domainId]);
  return rows;
}

export async function deleteKeys(c: Client, domainId: number): Promise<number> {
  return (await c.query('DELETE FROM dnssec_keys WHERE domain_id = $1', [domainId])).rowCount ?? 0;
}

/** Signing off: the domain publishes CDS/CDNSKEY delete (RFC 8078 4) until this row goes. */
export async function markUnsigned(c: Client, domainId: number, on: boolean): Promise<void> {
  if (on) await c.query('INSERT INTO dnssec_unsigned (domain_id) VALUES ($1) ON CONFLICT DO NOTHING', [domainId]);
  else await c.query('DELETE FROM dnssec_unsigned WHERE domain_id = $1', [domainId]);
}

/** What the DNS side needs per domain (keys with their private halves decrypted, CDS delete).
 *  Decryption fails loudly (KeyFileError). */
export async function loadDnssec(c: Queryable, kek: KekHolder, domainIds: number[] | 'all'): Promise<Map<number, DomainDnssec>> {
  const out = new Map<number, DomainDnssec>();
  const where = domainIds === 'all' ? '' : 'WHERE domain_id = ANY($1::bigint[])';
  const args = domainIds === 'all' ? [] : [domainIds];
  const keys = await c.query<SecretRow>(`SELECT ${PUBLIC_COLUMNS}, private_key, kek_id FROM dnssec_keys ${where} ORDER BY id`, args);
  for (const r of keys.rows) {
    const k = kek.get();
    const der = decryptPrivate(k, r);
    const entry = out.get(r.domain_id) ?? { keys: [] as SigningKey[], cdsDelete: false };
    (entry.keys as SigningKey[]).push({ id: r.id, algorithm: r.algorithm, flags: r.flags, publicKey: r.public_key, tag: r.key_tag, state: r.state, privateKey: privateKeyOf(der) });
    der.fill(0);
    out.set(r.domain_id, entry);
  }
  const del = await c.query<{ domain_id: number }>(`SELECT domain_id FROM dnssec_unsigned ${where}`, args);
  for (const r of del.rows) if (!out.has(r.domain_id)) out.set(r.domain_id, { keys: [], cdsDelete: true });
  return out;
}

/** The public view of a domain's DNSSEC state (API and CLI): public keys and DS, nothing secret. */
export async function dnssecState(db: Queryable, d: { id: number; name: string }) {
  const keys = await domainKeys(db, d.id);
  const del = (await db.query('SELECT 1 FROM dnssec_unsigned WHERE domain_id = $1', [d.id])).rowCount === 1;
  const out = keys.map((k) => keyOut(d.name, k));
  const active = keys.filter((k) => k.state !== 'retired');
  return {
    domain: d.name,
    signed: keys.length > 0,
    algorithm: keys.length ? algorithmName(keys[keys.length - 1].algorithm) : null,
    keys: out,
    ds: active.flatMap((k) => ([2, 4] as const).map((t) => `${d.name} DS ${dsText(d.name, pub(k), t)}`)),
    cds_delete: del && keys.length === 0,
  };
}

const pub = (k: KeyRow) => ({ flags: k.flags, algorithm: k.algorithm, publicKey: k.public_key });

function keyOut(owner: string, k: KeyRow) {
  return {
    key_tag: k.key_tag, flags: k.flags, algorithm: algorithmName(k.algorithm), state: k.state,
    dnskey: dnskeyText(pub(k)), ds: ([2, 4] as const).map((t) => dsText(owner, pub(k), t)), created_at: k.created_at,
  };
}

