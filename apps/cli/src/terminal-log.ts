import { pino, type Logger as PinoLogger } from 'pino';
import PinoPretty from 'pino-pretty';

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/**
 * The CLI's own log on the terminal: pino, rendered by pino-pretty on stderr (stdout stays for
 * tables and results). The same records a service writes, only made readable.
 */
export function terminalLogger(name: string, level = 'info'): PinoLogger {
  const stream = PinoPretty.build({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    ignore: 'pid,hostname,name',
    translateTime: 'SYS:HH:MM:ss',
    messageFormat: `[${name}] {msg}`,
    singleLine: true,
  });
  return pino({ level, name }, stream);
}

/**
 * Renders a service's pino JSON output for the terminal, a line at a time (chunks may split
 * lines), each prefixed with the service's name. Lines that are not JSON pass through as they are.
 */
export function serviceOutputRenderer(write: (text: string) => void, minLevel = 'info'): (service: string, chunk: Buffer) => void {
  const pending = new Map<string, string>();
  const min = LEVELS[minLevel] ?? 30;
  const pretty = PinoPretty.prettyFactory({
    colorize: process.stderr.isTTY === true,
    ignore: 'pid,hostname,name,reqId,req,res,responseTime',
    translateTime: 'SYS:HH:MM:ss',
    singleLine: true,
  });
  // Fastify's two lines per HTTP request would drown everything else; they stay in the log files.
  const perRequest = new Set(['incoming request', 'request completed']);
  return (service, chunk) => {
    const text = (pending.get(service) ?? '') + chunk.toString('utf8');
    const lines = text.split('\n');
    pending.set(service, lines.pop() ?? '');
    for (const line of lines) {
      if (!line.trim()) continue;
      let record: { level?: unknown; msg?: unknown };
      try {
        record = JSON.parse(line) as { level?: unknown; msg?: unknown };
      } catch {
        write(`${service.padEnd(12)} | ${line}\n`);
        continue;
      }
      if (Number(record.level ?? 30) < min || (min >= 30 && perRequest.has(String(record.msg)))) continue;
      write(`${service.padEnd(12)} | ${pretty(record)}`);
    }
  };
}
