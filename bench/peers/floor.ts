// Not a DNS server: the Node UDP floor (bench/floor/server.ts), measured like the peers so that
// Glidepath's figures can be read against what node:dgram itself allows on the same machine.
import { fileURLToPath } from 'node:url';
import { startProc } from '../util.js';
import type { Peer } from './types.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const floor: Peer = {
  name: 'Node UDP floor',
  floor: true,
  setup: (ctx) => `echo with QR and AA set, no DNS work; node:cluster with ${ctx.threads} worker${ctx.threads === 1 ? '' : 's'} on one shared UDP socket, as Glidepath's serve --workers`,
  async detect() { return { ok: true, version: `node ${process.versions.node}` }; },
  async prepare() { /* no data */ },
  async start(ctx, port) {
    return startProc('Node UDP floor', process.execPath, [`${ROOT}dist/bench/floor/server.js`, String(port), String(ctx.threads)], undefined, ROOT);
  },
};
