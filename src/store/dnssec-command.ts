// `glidepath dnssec enable|show|disable DOMAIN`: the operator's (admin) view of a domain's DNSSEC,
// the same transactions as the API's routes, with text for a terminal. Nothing secret is printed.
import type { Pool } from './db.js';
import { tx } from './db.js';
import type { KekHolder } from './key-file.js';
import { addKey, domainKeys, deleteKeys, markUnsigned, dnssecState } from './dnssec-keys.js';
import { algorithmName, type Algorithm } from '../dnssec/keys.js';
import { startRollover, confirmDs, rolloverView, RolloverError, type RolloverSettings } from './dnssec-rollover.js';

export class DnssecCommandError extends Error {}

export type DnssecAction = 'enable' | 'show' | 'disable' | 'rollover' | 'ds-published';

export async function dnssecCommand(pool: Pool, kek: KekHolder, action: DnssecAction, name: string, algorithm: Algorithm,
  rollover: RolloverSettings = { now: Date.now, propagationDelay: 300 }): Promise<string> {
  const key = name.toLowerCase().replace(/\.?$/, '.');
  return tx(pool, 'cli:dnssec', async (c) => {
    const d = (await c.query<{ id: number; name: string }>('SELECT id, name FROM domains WHERE name = $1 FOR UPDATE', [key])).rows[0];
    if (!d) throw new DnssecCommandError(`dnssec: no domain "${key}"`);
    const keys = await domainKeys(c, d.id);
    if (action === 'enable') {
      if (keys.length && keys.some((k) => k.algorithm !== algorithm)) {
        throw new DnssecCommandError(`dnssec: ${key} is signed with ${algorithmName(keys[0].algorithm)}; disable it first to change the algorithm`);
      }
      if (!keys.length) {
        await markUnsigned(c, d.id, false);
        await addKey(c, kek.get(), d.id, algorithm);
      }
    } else if (action === 'disable') {
      if ((await deleteKeys(c, d.id)) === 0) throw new DnssecCommandError(`dnssec: ${key} is not signed`);
      await markUnsigned(c, d.id, true);
      return `${key} is no longer signed; CDS/CDNSKEY "delete" ask the parent to remove its DS\n`;
    } else if (action === 'rollover' || action === 'ds-published') {
      try {
        if (action === 'rollover') await startRollover(c, kek.get(), d, rollover);
        else await confirmDs(c, d, 86400, rollover);
      } catch (e) {
        if (e instanceof RolloverError) throw new DnssecCommandError(`dnssec: ${e.message}`);
        throw e;
      }
    }
    const s = await dnssecState(c, d);
    if (!s.signed) return `${key} is not signed${s.cds_delete ? ' (CDS delete published)' : ''}\n`;
    const lines = [`; ${key} signed with ${s.algorithm}`];
    for (const k of s.keys) lines.push(`${key} DNSKEY ${k.dnskey} ; key tag ${k.key_tag}, ${k.state}`);
    const r = await rolloverView(c, d.id);
    if (r) {
      lines.push(`; key rollover ${r.old_key_tag} -> ${r.new_key_tag}: phase ${r.phase}, next step ${r.next_at ? r.next_at.toISOString() : `when the new DS is at the parent (${r.parent ?? 'glidepath dnssec ds-published'})`}`);
    }
    lines.push('; DS records for the parent:', ...s.ds);
    return lines.join('\n') + '\n';
  });
}
