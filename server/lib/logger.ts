import pino, { type Logger } from 'pino';

/** Keys that may hold personal data or secrets: never written to logs. */
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.firstName',
  '*.lastName',
  '*.alias',
  '*.phone',
  '*.email',
  '*.address',
  '*.situation',
  '*.summary',
  '*.privateNote',
  '*.sharedSummary',
  '*.token',
  '*.totp',
  'password',
  'email',
  'token',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { app: 'aller-vers' },
    },
    destination,
  );
}

export type { Logger };
