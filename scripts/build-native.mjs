// npm install / npm ci: builds the optional batched-UDP addon (native/, Linux only) with node-gyp.
// Never fails the install: without a compiler, headers or Linux, Glidepath uses node:dgram, and
// this prints one line saying so. GLIDEPATH_NATIVE=off skips the build. With --if-stale (npm test)
// it builds only when the addon is older than its source, so a checkout that pulled a change to
// native/ does not test the old addon.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const dir = fileURLToPath(new URL('../native/', import.meta.url));
const say = (m) => process.stderr.write(`glidepath: ${m}\n`);

function nodeGyp() {
  // npm hands its bundled node-gyp to scripts; outside npm, look beside npm or in node_modules.
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  for (const p of ['/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js', join(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')]) {
    if (existsSync(p)) return p;
  }
  try { return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'); } catch { return undefined; }
}

function fresh() {
  const built = join(dir, 'build/Release/udp_batch.node');
  if (!existsSync(built)) return false;
  const t = statSync(built).mtimeMs;
  return ['udp_batch.c', 'binding.gyp'].every((f) => statSync(join(dir, f)).mtimeMs <= t);
}

function main() {
  if (process.argv.includes('--if-stale') && (fresh() || !existsSync(join(dir, 'build')))) return;
  if (process.env.GLIDEPATH_NATIVE === 'off') return say('GLIDEPATH_NATIVE=off: batched UDP addon not built (node:dgram is used)');
  if (process.platform !== 'linux') return say(`batched UDP addon is Linux only (recvmmsg/sendmmsg); node:dgram is used on ${process.platform}`);
  const gyp = nodeGyp();
  if (!gyp) return say('node-gyp not found: batched UDP addon not built (node:dgram is used)');
  const args = [gyp, 'rebuild', '--directory', dir];
  // Build against the headers of the Node that runs us when they are installed (no download).
  if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
  if (r.status === 0 && existsSync(join(dir, 'build/Release/udp_batch.node'))) return say('batched UDP addon built (native/build/Release/udp_batch.node)');
  rmSync(join(dir, 'build'), { recursive: true, force: true });
  const why = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n').filter((l) => /error|not found|ERR!/i.test(l)).slice(0, 3).join(' | ');
  say(`batched UDP addon did not build; node:dgram is used (${why || r.error?.message || `exit ${r.status}`})`);
}

try { main(); } catch (err) { say(`batched UDP addon not built: ${err.message}`); }
