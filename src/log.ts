// The pino root logger: JSON lines on stdout; a readable single-line form when stdout is a terminal.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, fields: Record<string, string> = {}): Logger {
  const pretty = process.stdout.isTTY === true;
  return pino({
    level,
    base: { service: 'glidepath', ...fields },
    // Tokens and secrets never reach the log, whatever a caller passes.
    redact: { paths: ['req.headers.authorization', 'token', 'secret', '*.token', '*.secret'], censor: '[redacted]' },
    ...(pretty ? { transport: undefined, formatters: {} } : {}),
  }, pretty ? prettyStream() : undefined);
}

/** A tiny human-readable stream for terminals, so that no extra dependency (pino-pretty) is needed. */
function prettyStream(): { write(line: string): void } {
  const names: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  return {
    write(line: string) {
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        const { level, time, msg, service: _s, pid: _p, hostname: _h, node: _n, ...rest } = o;
        const t = new Date(Number(time)).toISOString().slice(11, 23);
        const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
        process.stdout.write(`${t} ${names[Number(level)] ?? level} ${String(msg ?? '')}${extra}\n`);
      } catch {
        process.stdout.write(line);
      }
    },
  };
}
