import pino, { type Logger } from 'pino';

/**
 * What PostgreSQL quotes back in an error besides its message and codes: the failing row
 * ("Failing row contains (…)"), the key values of a unique violation, the PL/pgSQL context.
 * The message, SQL state, table and constraint stay, which is what an operator needs.
 */
const DATABASE_ERROR_FIELDS = ['detail', 'where', 'hint', 'internalQuery'];
const databaseErrorPaths = ['err', 'err.cause', 'error'].flatMap((at) =>
  DATABASE_ERROR_FIELDS.map((field) => `${at}.${field}`),
);

/** Keys that may hold personal data or secrets: never written to logs. */
const REDACTED_PATHS = [
  ...databaseErrorPaths,
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
  '*.secret',
  '*.recoveryCodes',
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
