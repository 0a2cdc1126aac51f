import { pino, type Logger as PinoLogger } from 'pino';

/**
 * A service's logger: pino JSON lines on stdout (stderr where stdout is a protocol), the same format Fastify writes, so every
 * process's log reads the same way (and pino-pretty renders any of them).
 */
export function serviceLogger(level: string, name: string, fd: 1 | 2 = 1): PinoLogger {
  return pino({ level, name }, pino.destination({ fd, sync: fd === 2 }));
}
