// The house rules a reviewer would otherwise check by hand, as CoreDNS's presubmit tests do: the
// dependency rule of src/README.md (which folder may import which, pure folders, `pg` only in
// store/, `fastify` only in api/, no runtime import cycles) and a README in every folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTree } from './helpers/imports.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('src/ follows the dependency rule written in src/README.md', async () => {
  const problems = await checkTree(ROOT);
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
});

/** A copy of src/ with `edit` applied, checked. */
async function checkEdited(edit: (src: string) => Promise<void>): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'glidepath-rule-'));
  try {
    await cp(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
    await edit(join(dir, 'src'));
    return await checkTree(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function prepend(file: string, line: string): Promise<void> {
  await writeFile(file, line + '\n' + await readFile(file, 'utf8'));
}

test('the rule catches a pure folder importing the store, pg outside store/, fastify outside api/, route-to-route imports', async () => {
  const problems = await checkEdited(async (src) => {
    await prepend(join(src, 'answer/resolve.ts'), "import type { Pool } from '../store/db.js';");
    await prepend(join(src, 'server/udp.ts'), "import pg from 'pg';");
    await prepend(join(src, 'transfer/notify.ts'), "import type { FastifyInstance } from 'fastify';");
    await prepend(join(src, 'snapshot/build.ts'), "import { readFile } from 'node:fs/promises';");
    await prepend(join(src, 'api/routes/zones.ts'), "import { domainOut } from './domains.js';");
  });
  assert.ok(problems.some((p) => /^src\/api\/routes\/zones\.ts:1: a route file imports no other route file/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^src\/answer\/resolve\.ts:1: answer\/ may not import store\//.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^src\/server\/udp\.ts:1: 'pg' is imported only in store\//.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^src\/transfer\/notify\.ts:1: 'fastify' is imported only in api\//.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /^src\/snapshot\/build\.ts:1: snapshot\/ is pure .* 'node:fs\/promises'/.test(p)), problems.join('\n'));
});

test('the rule catches an import cycle, a clock read in a pure folder, and a folder without README', async () => {
  const problems = await checkEdited(async (src) => {
    await prepend(join(src, 'dns/constants.ts'), "import { MAX_LABEL } from './name.js'; void MAX_LABEL;");
    await prepend(join(src, 'dns/name.ts'), "import { TYPE } from './constants.js'; void TYPE;");
    await writeFile(join(src, 'answer/clock.ts'), 'export const now = () => Date.now();\n');
    await rm(join(src, 'dns/README.md'));
  });
  assert.ok(problems.includes('import cycle: src/dns/constants.ts <-> src/dns/name.ts'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('src/answer/clock.ts:1: answer/ is pure: take the clock')), problems.join('\n'));
  assert.ok(problems.includes('src/dns/ has no README.md'), problems.join('\n'));
});

test('a type-only import does not make a cycle, but still counts for the layers', async () => {
  const problems = await checkEdited(async (src) => {
    await prepend(join(src, 'dns/constants.ts'), "import type { Labels } from './name.js';\nexport type L = Labels;");
    await prepend(join(src, 'dns/name.ts'), "import { TYPE } from './constants.js'; void TYPE;");
    await prepend(join(src, 'snapshot/zone.ts'), "import type { Config } from '../config.js';\nexport type C = Config;");
  });
  assert.ok(!problems.some((p) => p.startsWith('import cycle')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('src/snapshot/zone.ts:1: snapshot/ may not import config.ts')), problems.join('\n'));
});

test('every folder of the repository that holds code, SQL or tests has a README.md', async () => {
  const missing: string[] = [];
  for (const top of ['migrations', 'test', 'bench', 'scripts', 'examples']) {
    const has = await stat(join(ROOT, top)).then(() => true, () => false);
    if (has && !await stat(join(ROOT, top, 'README.md')).then(() => true, () => false)) missing.push(`${top}/`);
  }
  for (const e of await readdir(join(ROOT, 'src'), { withFileTypes: true })) {
    if (e.isDirectory() && !await stat(join(ROOT, 'src', e.name, 'README.md')).then(() => true, () => false)) missing.push(`src/${e.name}/`);
  }
  assert.deepEqual(missing, []);
});
