// The OpenAPI document, generated from the route schemas. `npm run openapi` writes it to
// api/openapi.json; a test fails when the checked-in file drifts from this.
import { pino } from 'pino';
import { createPool } from '../store/db.js';
import { buildApp } from './app.js';

export async function openapiDocument(): Promise<unknown> {
  // Never connected: building the routes needs a pool object, not a database.
  const pool = createPool('postgres://127.0.0.1:1/unused', 1);
  const app = await buildApp({ pool, log: pino({ level: 'silent' }) });
  try {
    return app.swagger();
  } finally {
    await app.close();
    await pool.end();
  }
}
