// The transfer settings the DNS side reads synchronously (keys, allowed addresses, NOTIFY targets),
// reloaded whole when the journal says they changed (entity 'transfer'; they are small) so that
// every server sharing the database follows the API's writes.
import type { Logger } from 'pino';
import { buildDomainTransfer, NO_SETTINGS, type DomainTransfer, type TransferSettings } from './access.js';
import type { TsigKey } from '../dns/tsig.js';
import type { KeySecretRow, NamedTransferRow } from '../store/transfer.js';

export type SettingsLoader = () => Promise<{ seq: number; keys: KeySecretRow[]; domains: NamedTransferRow[] }>;

export class TransferSettingsHolder {
  private current: TransferSettings = NO_SETTINGS;
  /** Journal sequence the settings reflect. */
  seq = 0;
  private running: Promise<void> | undefined;
  private again = false;
  /** Called after each reload with the settings before and after (NOTIFY to new targets). */
  onChange: (before: TransferSettings, after: TransferSettings) => void = () => undefined;

  constructor(private readonly load: SettingsLoader, private readonly log: Logger) {}

  get(): TransferSettings { return this.current; }

  /** Reloads now, or once more after the reload in progress. */
  reload(): Promise<void> {
    if (this.running) { this.again = true; return this.running; }
    this.running = (async () => {
      do {
        this.again = false;
        const rows = await this.load();
        const keys = new Map<string, TsigKey>();
        for (const k of rows.keys) keys.set(k.name, { name: k.name, algorithm: k.algorithm, secret: k.secret });
        const domains = new Map<number, DomainTransfer>();
        for (const d of rows.domains) {
          try { domains.set(d.domain_id, buildDomainTransfer(d)); } catch (err) {
            this.log.warn({ domainId: d.domain_id, err: (err as Error).message }, 'transfer settings skipped');
          }
        }
        const before = this.current;
        this.current = { keys, domains };
        this.seq = Math.max(this.seq, rows.seq);
        this.onChange(before, this.current);
      } while (this.again);
    })().catch((err: Error) => {
      this.log.warn({ err: err.message }, 'loading transfer settings failed; keeping the previous ones');
    }).finally(() => { this.running = undefined; });
    return this.running;
  }
}
