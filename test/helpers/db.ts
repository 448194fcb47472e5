// One fresh database per suite, cloned from the migrated template that test/run.ts prepared.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, type Pool } from '../../src/store/db.js';

export interface TestDatabase { url: string; pool: Pool; drop(): Promise<void> }

export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.GLIDEPATH_TEST_ADMIN_URL;
  const template = process.env.GLIDEPATH_TEST_TEMPLATE;
  if (!adminUrl || !template) throw new Error('run the suites through `npm test` (test/run.ts), which provides the database');
  const name = 't_' + randomBytes(6).toString('hex');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // Cloning fails while another session is connected to the template; retry briefly.
  for (let i = 0; ; i++) {
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      break;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = '/' + name;
  const url = u.toString();
  const pool = createPool(url, 5);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
