import pino, { DestinationStream, Logger } from 'pino';
import PinoPretty from 'pino-pretty';
import { LogLevel } from '../config/observability-settings';

export type { Logger as RootLogger } from 'pino';

/**
 * Where secrets could sit in a logged object: never printed, whoever logs what. Tokens are never
 * put in messages; these paths catch an object (a request, headers, a config) logged whole.
 */
export const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'token',
  'password',
  'apiTokens',
  'metricsToken',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.cookie',
  '*.token',
  '*.password',
  '*.apiTokens',
  '*.metricsToken',
];

export interface LogSettings {
  logFormat: 'json' | 'pretty';
  logLevel: LogLevel;
}

/**
 * The process's one pino logger: JSON lines on stdout (ISO time, level names, the service), or
 * pino-pretty in-process for LOG_FORMAT=pretty (no transport thread to set up or lose).
 * `destination` replaces stdout (tests capture lines with it).
 */
export function createRootLogger(service: 'api' | 'worker', settings: LogSettings, destination?: DestinationStream): Logger {
  const options = {
    level: settings.logLevel,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (destination) return pino(options, destination);
  if (settings.logFormat === 'pretty') {
    return pino(
      options,
      PinoPretty({
        colorize: process.stdout.isTTY === true,
        sync: true,
        ignore: 'pid,hostname,service,context',
        messageFormat: '{if context}[{context}] {end}{msg}',
        translateTime: 'SYS:HH:MM:ss.l',
      }),
    );
  }
  // Asynchronous: under load lines are coalesced into fewer writes and a slow reader of stdout
  // never stalls requests (measured: docs/operations.md). pino flushes what is pending on exit.
  return pino(options, pino.destination({ fd: 1, sync: false }));
}
