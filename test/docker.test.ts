// The image is built as the README says (Node 24, only src/, a volume, not root) and the build
// context leaves out what must not travel. `docker compose config` (or Debian's docker-compose)
// validates the compose file, replica profile included, in .ci/run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const ROOT = new URL('../../', import.meta.url);

test('Dockerfile: Node 24, only src/ compiled, data volume, not root; .dockerignore keeps the context small', async () => {
  const file = await readFile(new URL('Dockerfile', ROOT), 'utf8');
  const from = [...file.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  assert.ok(from.length >= 2 && from.every((f) => /^node:24-.*slim$/.test(f)), from.join(' '));
  const copies = [...file.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
  for (const c of copies) assert.ok(!/^(test|bench)\b/.test(c), `COPY ${c}`);
  assert.match(file, /tsc -p tsconfig\.src\.json/);
  assert.deepEqual(JSON.parse(await readFile(new URL('tsconfig.src.json', ROOT), 'utf8')).include, ['src/**/*.ts']);
  assert.match(file, /^VOLUME \/var\/lib\/glidepath$/m);
  assert.match(file, /GLIDEPATH_DATA_DIR=\/var\/lib\/glidepath/);
  assert.match(file, /^USER node$/m);
  const ignore = (await readFile(new URL('.dockerignore', ROOT), 'utf8')).split('\n');
  for (const p of ['node_modules', '.glidepath', '.git', 'dist']) assert.ok(ignore.includes(p), `.dockerignore has ${p}`);
  const compose = await readFile(new URL('docker-compose.yml', ROOT), 'utf8');
  assert.match(compose, /- glidepath:\/var\/lib\/glidepath/);
});
