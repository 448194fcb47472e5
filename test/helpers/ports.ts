// Ports for daemons a suite starts itself (Knot, NSD, a `glidepath serve` child).
import dgram from 'node:dgram';
import net from 'node:net';

/**
 * A port free for TCP and for UDP on loopback (a DNS daemon listens on both), handed to a daemon
 * that binds it a moment later. It is drawn below Linux's ephemeral range (32768-60999 by default),
 * which the kernel gives out to outgoing connections and port-0 binds at any time, so in that
 * moment only an explicit bind could take it. A port is handed out once per process.
 */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  const bindable = (sock: net.Server | dgram.Socket, port: number) => new Promise<boolean>((r) => {
    sock.once('error', () => {
      if (sock instanceof dgram.Socket) sock.close();
      r(false);
    });
    if (sock instanceof net.Server) sock.listen(port, '127.0.0.1', () => sock.close(() => r(true)));
    else sock.bind(port, '127.0.0.1', () => sock.close(() => r(true)));
  });
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (handedOut.has(port)) continue;
    if (await bindable(net.createServer(), port) && await bindable(dgram.createSocket('udp4'), port)) {
      handedOut.add(port);
      return port;
    }
  }
}
