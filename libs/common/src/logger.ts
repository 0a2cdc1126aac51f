/**
 * The logging interface every library takes. pino (Fastify's logger) satisfies it,
 * so services pass `app.log`; the CLI passes a plain console logger.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Line-per-entry logger on stderr, for the CLI and scripts. */
export function consoleLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info', prefix = ''): Logger {
  const order = ['debug', 'info', 'warn', 'error'];
  const min = order.indexOf(level);
  const mk = (lvl: string) => (obj: object | string, msg?: string) => {
    if (order.indexOf(lvl) < min) return;
    const text = typeof obj === 'string' ? obj : `${msg ?? ''} ${JSON.stringify(obj)}`.trim();
    process.stderr.write(`${prefix}${lvl === 'info' ? '' : lvl + ': '}${text}\n`);
  };
  return { debug: mk('debug'), info: mk('info'), warn: mk('warn'), error: mk('error') };
}
