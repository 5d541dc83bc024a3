import net from 'node:net';
import { z } from 'zod';

/**
 * The whole environment, parsed once at boot. Nothing else reads process.env.
 * Development gets safe defaults; production must set its secrets.
 */
const DEV_ENCRYPTION_KEY = '0'.repeat(64);
const DEV_SECRET = 'dev-only-secret-change-me-in-production-0123456789';
/** A placeholder sender on a domain that receives no mail (.local): refused in production. */
const DEV_MAIL_FROM = 'aller-vers <no-reply@aller-vers.local>';

/** Names express (proxy-addr) gives to the loopback, link-local and unique-local ranges. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, or an address with a prefix length (10.0.0.0/8, fd00::/8). */
function isAddressOrSubnet(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = net.isIP(address);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** TRUST_PROXY as express takes it: false, a hop count, or a list of addresses and subnets. */
function parseTrustProxy(value: string, ctx: z.RefinementCtx): false | number | string[] {
  const v = value.trim();
  if (v.toLowerCase() === 'true') {
    ctx.addIssue({
      code: 'custom',
      message:
        'true is refused: it trusts every X-Forwarded-For entry, and the client writes the first one (per-IP limits would count whatever it claims); give the number of proxies in front of the app (e.g. 1) or their addresses or subnets',
    });
    return z.NEVER;
  }
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  const entries = v.split(',').map((e) => e.trim());
  const bad = entries.filter((e) => !PROXY_RANGES.has(e) && !isAddressOrSubnet(e));
  if (bad.length) {
    ctx.addIssue({
      code: 'custom',
      message: `must be false, a hop count, or addresses and subnets separated by commas (loopback, linklocal, uniquelocal, 10.0.0.1, 10.0.0.0/8); not ${bad.map((e) => JSON.stringify(e)).join(', ')}`,
    });
    return z.NEVER;
  }
  return entries;
}

/**
 * PUBLIC_URL as its origin: every link an email carries is this plus an absolute path, so
 * "https://x.fr/" must give "https://x.fr", never "https://x.fr//…" (which no route answers).
 * The app is served at the root: an address with a path (or a query, a fragment, credentials)
 * could only give links the router does not answer, so it is refused rather than cut.
 */
function parsePublicUrl(value: string, ctx: z.RefinementCtx): string {
  const url = new URL(value);
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    ctx.addIssue({
      code: 'custom',
      message:
        'PUBLIC_URL must be the root address of the app, without a path, query or credentials (e.g. https://aller-vers.example): the app is served at / and every link starts there',
    });
    return z.NEVER;
  }
  return url.origin;
}

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('127.0.0.1'),
    /**
     * The address users reach the app at, kept as its origin (no trailing slash); required in
     * production, https unless ALLOW_INSECURE_HTTP.
     */
    PUBLIC_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// address' })
      .transform(parsePublicUrl)
      .optional(),
    /**
     * Production over plain HTTP, for a local trial only (the docker compose stack on localhost):
     * the session cookie goes without Secure and no HSTS is sent.
     */
    ALLOW_INSECURE_HTTP: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /**
     * Which proxies may set X-Forwarded-For/-Proto (express "trust proxy"): a hop count, or
     * addresses and subnets. Never "true": req.ip would be the left-most X-Forwarded-For entry,
     * which the client writes, and the per-IP limits would count whatever it claims.
     */
    TRUST_PROXY: z.string().default('loopback').transform(parseTrustProxy),
    DATABASE_URL: z.string().optional(),
    DATA_DIR: z.string().default('./data'),
    DB_POOL_MAX: z.coerce.number().int().min(1).default(10),
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),
    /**
     * Parallel workers a statement of this process may start (PostgreSQL's
     * max_parallel_workers_per_gather, set on each connection). 0: the app's statements are short
     * and run side by side; starting workers cost them more than it saved (docs/benchmarks.md).
     * The observation's background refresh uses PostgreSQL's default.
     */
    DB_PARALLEL_WORKERS: z.coerce.number().int().min(0).max(64).default(0),
    REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[a-z0-9_-]+$/i)
      .default('aller-vers'),
    SESSION_SECRET: z.string().min(32).default(DEV_SECRET),
    LINK_SECRET: z.string().min(32).default(DEV_SECRET),
    ENCRYPTION_KEY: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, 'ENCRYPTION_KEY must be 64 hex characters (32 bytes)')
      .default(DEV_ENCRYPTION_KEY),
    /** Required in production: without it emails are only logged, never delivered. */
    SMTP_URL: z.string().optional(),
    MAIL_FROM: z.string().default(DEV_MAIL_FROM),
    /** Bound on each SMTP connect, greeting and idle socket: a send never holds a job (and its transaction) longer. */
    SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(10000),
    /** Attempts of an email job and the first retry delay, doubled at each retry (10 × 30 s reaches about 4 hours). */
    EMAIL_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
    EMAIL_RETRY_DELAY_MS: z.coerce.number().int().min(10).default(30000),
    /**
     * A deadline whose job used up its attempts on an ordinary error (or stalled too often) stays
     * pending; the reconciler re-adds its job, delayed by this cool-down (5 minutes by default).
     */
    DEADLINE_RETRY_COOLDOWN_MS: z.coerce.number().int().min(10).default(300000),
    /**
     * Past its due moment (or its planning, if planned already past due) by this many hours, a
     * deadline still failing is marked failed for good.
     */
    DEADLINE_GIVE_UP_HOURS: z.coerce.number().int().min(1).max(8760).default(72),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    RUN_WORKER_IN_WEB: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10000),
    RELAY_INTERVAL_MS: z.coerce.number().int().min(50).default(5000),
    /** Deadline jobs each worker process runs at once (each holds a database connection meanwhile). */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
    /**
     * How long a job stays locked without a heartbeat before another worker may take it over
     * (a worker killed mid-job), and how often workers look for such jobs. Every worker of one
     * queue should share both: BullMQ throttles the stalled check per queue.
     */
    WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30000),
    WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30000),
    RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).default(300000),
    /**
     * A private port serving GET /metrics without a session (for Prometheus on a private
     * network); unset, /metrics is served on PORT to admins only.
     */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    METRICS_HOST: z.string().default('127.0.0.1'),
    /** How often each web process deletes expired sessions; 0 turns it off. */
    SESSION_CLEANUP_INTERVAL_MS: z.coerce.number().int().min(0).default(900000),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.PUBLIC_URL, {
    path: ['PUBLIC_URL'],
    message:
      'PUBLIC_URL is required in production: the https:// address users reach the app at (it decides the Secure cookie flag and HSTS)',
  })
  .refine(
    (c) =>
      c.NODE_ENV !== 'production' ||
      !c.PUBLIC_URL ||
      new URL(c.PUBLIC_URL).protocol === 'https:' ||
      c.ALLOW_INSECURE_HTTP,
    {
      path: ['PUBLIC_URL'],
      message:
        'PUBLIC_URL must be https:// in production; for a local trial over plain HTTP only, set ALLOW_INSECURE_HTTP=true (session cookie without Secure, no HSTS)',
    },
  )
  .refine((c) => c.NODE_ENV !== 'production' || c.DATABASE_URL, {
    path: ['DATABASE_URL'],
    message: 'DATABASE_URL is required in production (the embedded database is for trying it out)',
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.ENCRYPTION_KEY !== DEV_ENCRYPTION_KEY, {
    path: ['ENCRYPTION_KEY'],
    message: 'set ENCRYPTION_KEY in production',
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.SESSION_SECRET !== DEV_SECRET, {
    path: ['SESSION_SECRET'],
    message: 'set SESSION_SECRET in production',
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.LINK_SECRET !== DEV_SECRET, {
    path: ['LINK_SECRET'],
    message: 'set LINK_SECRET in production',
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.SMTP_URL, {
    path: ['SMTP_URL'],
    message:
      'SMTP_URL is required in production (smtp://host:port): without it no email is delivered (partner links, set-password links, digests) while each is recorded as sent',
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.MAIL_FROM !== DEV_MAIL_FROM, {
    path: ['MAIL_FROM'],
    message:
      'set MAIL_FROM in production: the default sender, no-reply@aller-vers.local, is a placeholder on a domain that receives no mail (replies and bounces are lost, and receiving servers may refuse it)',
  });

export type Config = Readonly<z.infer<typeof schema>> & { readonly publicUrl: string };

export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return Object.freeze({
    ...c,
    publicUrl: c.PUBLIC_URL ?? `http://${c.HOST === '0.0.0.0' ? 'localhost' : c.HOST}:${c.PORT}`,
  });
}
