// The checked-in OpenAPI document is exactly what the code generates, and /docs serves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { openapiDocument } from '../../src/api/openapi.js';
import { startApi } from './helpers.js';

test('api/openapi.json matches the routes (run `npm run openapi` after changing them)', async () => {
  const file = JSON.parse(await readFile(new URL('../../../api/openapi.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  const doc = JSON.parse(JSON.stringify(await openapiDocument())) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.deepEqual(file, doc);
  assert.equal(doc.openapi, '3.1.0');
  for (const p of ['/v1/zones/{zone}/rrsets/{owner}/{type}', '/v1/domains/{name}/changes', '/v1/zones/{zone}/file', '/v1/tokens']) {
    assert.ok(doc.paths[p], `documents ${p}`);
  }
  assert.deepEqual(Object.keys(doc.paths['/v1/zones/{zone}/rrsets/{owner}/{type}']).sort(), ['delete', 'get', 'put']);
});

test('/docs serves the interactive page and the document, without a token', async () => {
  const api = await startApi();
  const page = await api.call('GET', '/docs/', { token: null });
  assert.equal(page.status, 200);
  assert.match(page.text, /swagger/i);
  const json = await api.call('GET', '/docs/json', { token: null });
  assert.equal(json.status, 200);
  assert.equal((json.body as { openapi: string }).openapi, '3.1.0');
});
