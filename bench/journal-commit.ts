// What one transaction that appends n journal rows costs to commit (migrations/017): n domains
// created by one INSERT, with journal_commit_order() as 017 defines it and as 008 did (whose later
// firings probed the transaction's dead provisional entries again: n² probes), then 017 again.
//   npm run -s build && node dist/bench/journal-commit.js   (PostgreSQL: DATABASE_URL or embedded in bench/out/pg)
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startPostgres, freshDatabase } from './pg.js';
import { createPool } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';

/** 008's journal_commit_order(), as that migration defines it (017 replaces it). */
async function of008(): Promise<string> {
  const sql = await readFile(fileURLToPath(new URL('../../migrations/008_scale.sql', import.meta.url)), 'utf8');
  const from = sql.indexOf('CREATE FUNCTION journal_commit_order()');
  const to = sql.indexOf('END $$;', from);
  if (from < 0 || to < 0) throw new Error('migrations/008_scale.sql: journal_commit_order() not found');
  return sql.slice(from, to + 'END $$;'.length).replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION');
}

const server = await startPostgres('bench/out/pg');
try {
  const pool = createPool(await freshDatabase(server, 'glidepath_journal_commit'), 2);
  try {
    await migrate(pool);
    const of017 = (await pool.query<{ d: string }>("SELECT pg_get_functiondef('journal_commit_order'::regproc) AS d")).rows[0].d;
    const tenant = (await pool.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('bench') RETURNING id")).rows[0].id;
    const zone = (await pool.query<{ id: number }>("INSERT INTO zones (tenant_id, name) VALUES ($1, 'bench') RETURNING id", [tenant])).rows[0].id;
    let run = 0;
    const old = await of008();
    for (const [migration, body] of [['017', of017], ['008', old], ['017', of017]]) {
      await pool.query(body);
      for (const n of [1000, 5000, 10000]) {
        run++;
        const t0 = performance.now();
        await pool.query(`INSERT INTO domains (name, tenant_id, zone_id)
          SELECT 'd' || g || '.r${run}.test.', $1, $2 FROM generate_series(1, $3) g`, [tenant, zone, n]);
        console.log(JSON.stringify({ journalCommitOrder: migration, domains: n, insertAndCommitMs: Math.round(performance.now() - t0) }));
      }
    }
  } finally {
    await pool.end();
  }
} finally {
  await server.stop();
}
