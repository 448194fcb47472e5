// Writes api/openapi.json from the route schemas (run through `npm run openapi`, which builds first).
import { writeFile } from 'node:fs/promises';
import { openapiDocument } from '../dist/src/api/openapi.js';

const out = new URL('../api/openapi.json', import.meta.url);
await writeFile(out, JSON.stringify(await openapiDocument(), null, 2) + '\n');
console.log(`wrote ${out.pathname}`);
