// The plain-DNS listeners of one address: UDP and TCP on one port.
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import type { QueryContext } from './handle-query.js';
import { listenUdp, type UdpListener } from './udp.js';
import { listenTcp, type TcpListener, type StreamOptions } from './tcp.js';
import { ListenError } from './listen-error.js';

/** How many ports a port-0 listen tries before it gives up (also the primary's, cluster/primary.ts). */
export const PORT_ZERO_ATTEMPTS = 20;

export interface DnsListeners { port: number; udp: UdpListener; tcp: TcpListener }

/** The two binds, replaceable so a test can choose the first UDP port. */
export interface Binders { udp: typeof listenUdp; tcp: typeof listenTcp }

/**
 * DNS is served on one port over UDP and TCP (RFC 1035 §4.2, RFC 7766 §5). UDP binds first; with
 * port 0 the TCP listener then takes the port UDP was given, which another socket may already hold
 * for TCP (an outgoing connection's ephemeral port, say). Then both are given up and another port
 * is tried. A port the operator chose is never swapped: its EADDRINUSE is the error.
 */
export async function listenDns(addr: HostPort, ctx: QueryContext, log: Logger, stream: StreamOptions,
  bind: Binders = { udp: listenUdp, tcp: listenTcp }): Promise<DnsListeners> {
  for (let attempt = 1; ; attempt++) {
    const udp = await bind.udp(addr, ctx, log);
    try {
      const tcp = await bind.tcp({ host: addr.host, port: udp.port }, ctx, log, stream);
      return { port: udp.port, udp, tcp };
    } catch (err) {
      await udp.close();
      const retry = addr.port === 0 && err instanceof ListenError && err.code === 'EADDRINUSE' && attempt < PORT_ZERO_ATTEMPTS;
      if (!retry) throw err;
      log.debug({ port: udp.port }, 'tcp port taken; trying another port for udp and tcp');
    }
  }
}
