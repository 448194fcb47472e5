// Datagrams the kernel dropped at the UDP sockets bound to a local port (Linux /proc/net/udp and
// udp6, the "drops" column: a full receive buffer), so a burst test can say whose socket lost them.
// undefined where /proc/net is not there.
import { readFileSync } from 'node:fs';

export function udpDrops(port: number, host: string): number | undefined {
  let text: string;
  try { text = readFileSync(host.includes(':') ? '/proc/net/udp6' : '/proc/net/udp', 'utf8'); } catch { return undefined; }
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops = 0;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    if (f.length > 12 && f[1].endsWith(hex)) drops += Number(f[12]);
  }
  return drops;
}
