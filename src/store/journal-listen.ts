// The LISTEN connection of the change feed (feed/change-feed.ts): its own client, outside the pool,
// because a pooled connection would be handed to someone else between notifications. NOTIFY is
// only a hint that the journal grew (the payload is the new sequence); the feed re-reads the journal.
import pg from 'pg';

export const CHANNEL = 'glidepath_journal';
const CONNECT_TIMEOUT_MS = 2000;

export interface JournalEvents {
  /** The journal reached `seq` (a NOTIFY from the journal trigger, migrations/001 and 003). */
  notified(seq: number): void;
  /** The connection failed or closed; this listener is finished (open a new one). */
  lost(err: Error): void;
}

export class JournalListener {
  private readonly client: pg.Client;

  constructor(url: string, events: JournalEvents) {
    // A connect that hangs (a frozen server) must fail, so that the feed tries again.
    this.client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    this.client.on('notification', (m) => events.notified(Number(m.payload)));
    this.client.on('error', (err) => events.lost(err));
    this.client.on('end', () => events.lost(new Error('connection closed')));
  }

  async open(): Promise<void> {
    try {
      await this.client.connect();
      await this.client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      void this.close();
      throw err;
    }
  }

  close(): Promise<void> {
    return this.client.end().catch(() => undefined);
  }
}
