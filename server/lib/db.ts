import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../config';
import type { Logger } from './logger';
import { TIMED_OUT, within } from './time-limit';

// count(*) and bigint come back as strings from pg; every count we read fits a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

type DbKind = 'postgres' | 'pglite';

export interface Database {
  knex: Knex;
  kind: DbKind;
  close(): Promise<void>;
}

const MIGRATIONS_DIR = path.resolve(__dirname, '../../migrations');

/**
 * Migrations are the files of migrations/ (TypeScript under tsx and jest, JavaScript once built),
 * loaded with require so every runtime finds them the same way.
 */
export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{14}_.+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
  },
  getMigrationName(file) {
    return file.replace(/\.(ts|js)$/, '');
  },
  async getMigration(file) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- migrations are loaded by name at run time
    return require(path.join(MIGRATIONS_DIR, file)) as Knex.Migration;
  },
};

/** What the connection pool holds now, for the metrics; null when the client has no pool. */
export interface PoolStats {
  used: number;
  free: number;
  pendingAcquires: number;
  max: number;
}

export function poolStats(knex: Knex): PoolStats | null {
  // knex keeps its tarn pool on the client; it is not part of knex's typed surface.
  const pool = (knex.client as { pool?: Record<string, unknown> }).pool as
    | {
        numUsed(): number;
        numFree(): number;
        numPendingAcquires(): number;
        max: number;
      }
    | undefined;
  if (!pool || typeof pool.numUsed !== 'function') return null;
  return {
    used: pool.numUsed(),
    free: pool.numFree(),
    pendingAcquires: pool.numPendingAcquires(),
    max: pool.max,
  };
}

/** The key of the session-level advisory lock held while migrating (see `underMigrationLock`). */
export const MIGRATION_LOCK = 5_318_008_427;

/**
 * Runs `change` (migrations applied or undone) holding the database's migration lock, so that
 * replicas starting together take turns however long a migration takes. The lock is a
 * session-level advisory lock on a connection of its own, outside the pool, without a statement
 * timeout: knex's own lock is an UPDATE on a pool connection, whose wait behind another replica's
 * migrations DB_STATEMENT_TIMEOUT_MS cut short (a LockError, and the replica exited), and on an
 * empty database knex creates its tables before any lock, so two replicas collided there. Taken
 * first, this lock covers both; ending the connection releases it if the unlock could not. The
 * embedded database needs none: one process holds it (its lock file).
 */
export async function underMigrationLock<T>(
  db: Pick<Database, 'knex' | 'kind'>,
  change: () => Promise<T>,
): Promise<T> {
  if (db.kind === 'pglite') return change();
  const client = db.knex.client as Knex.Client;
  const connection = (await client.acquireRawConnection()) as pg.Client;
  try {
    // A lock_timeout set for the role or the database would cut the wait short the same way.
    await connection.query('SET statement_timeout = 0; SET lock_timeout = 0');
    await connection.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      return await change();
    } finally {
      await connection
        .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
        .catch(() => undefined);
    }
  } finally {
    await client.destroyRawConnection(connection).catch(() => undefined);
  }
}

/** Applies every pending migration, under the migration lock; answers their names. */
export async function migrateLatest(db: Pick<Database, 'knex' | 'kind'>): Promise<string[]> {
  return underMigrationLock(db, async () => {
    const [, applied] = (await db.knex.migrate.latest({ migrationSource })) as [number, string[]];
    return applied;
  });
}

/**
 * What every connection of a process sets at its start: the statement timeout and the parallel
 * workers a statement may start (bench/server.ts's bare handlers connect with the same).
 */
export const connectionSettings = (
  config: Pick<Config, 'DB_STATEMENT_TIMEOUT_MS' | 'DB_PARALLEL_WORKERS'>,
) => ({
  statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
  options: `-c max_parallel_workers_per_gather=${config.DB_PARALLEL_WORKERS}`,
});

/** How long a statement waits for a connection of the pool before it fails. */
export const ACQUIRE_CONNECTION_TIMEOUT_MS = 10_000;

/**
 * How long the app waits for PostgreSQL's answer to a statement before it gives up on it where
 * a wait must not outlive the database (the audit's group commit): a connection, the statement
 * timeout, and a margin. PostgreSQL ends a statement at its timeout; this bounds the case it
 * cannot, a connection lost without a word.
 */
export const databaseAnswerBoundMs = (config: Pick<Config, 'DB_STATEMENT_TIMEOUT_MS'>) =>
  ACQUIRE_CONNECTION_TIMEOUT_MS + config.DB_STATEMENT_TIMEOUT_MS + 5_000;

export function createPostgres(
  config: Pick<Config, 'DB_POOL_MAX' | 'DB_STATEMENT_TIMEOUT_MS' | 'DB_PARALLEL_WORKERS'>,
  url: string,
): Database {
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, ...connectionSettings(config) },
    pool: { min: 0, max: config.DB_POOL_MAX },
    // A request waiting for a connection fails after this instead of hanging.
    acquireConnectionTimeout: ACQUIRE_CONNECTION_TIMEOUT_MS,
  });
  return { knex, kind: 'postgres', close: () => knex.destroy() };
}

/**
 * The embedded PostgreSQL (PGlite) used when DATABASE_URL is unset. It has no lock between
 * processes, so we hold a lock file: a second process on the same folder is refused.
 */
async function createPglite(dataDir: string, logger?: Logger): Promise<Database> {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const releaseLock = acquireLock(path.join(dir, 'aller-vers.lock'));
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
    const { unaccent } = await import('@electric-sql/pglite/contrib/unaccent');
    const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
    const fresh = !fs.existsSync(path.join(dir, 'pgdata', 'PG_VERSION'));
    if (fresh) logger?.info('Creating the embedded database (first start takes a few seconds)…');
    const pglite = await PGlite.create(path.join(dir, 'pgdata'), {
      extensions: { pg_trgm, unaccent, btree_gin },
    });
    const { default: ClientPgLite } = await import('knex-pglite');
    const knex = knexFactory({
      client: ClientPgLite,
      dialect: 'postgres',
      connection: () => ({ pglite }) as object,
    } as Knex.Config);
    return {
      knex,
      kind: 'pglite',
      async close() {
        try {
          // knex-pglite closes the instance when knex destroys its connection.
          await knex.destroy();
          if (!pglite.closed) await pglite.close();
        } finally {
          releaseLock();
        }
      },
    };
  } catch (err) {
    releaseLock();
    throw err;
  }
}

/** Test seam: called when a stale lock is seen, before taking it over. */
interface LockHooks {
  onStale?: () => void;
}

/**
 * Takes the embedded database's lock file. It is created exclusively (a link fails if the name
 * exists), so of two processes exactly one creates it. A lock left by a dead process is removed only by the holder of a second
 * exclusive file (`<lock>.takeover`), and only if it still holds what was seen stale; then the
 * taking starts over. So two processes arriving together on a stale lock never both
 * win: one takes it, the other finds it held by a live process.
 */
export function acquireLock(file: string, hooks: LockHooks = {}): () => void {
  const token = `${process.pid} ${crypto.randomUUID()}`;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createExclusive(file, token)) {
      return () => {
        if (readIfExists(file) === token) fs.rmSync(file, { force: true });
      };
    }
    const seen = readIfExists(file);
    if (seen === null) continue; // released in between
    const holder = lockHolder(seen);
    // Our own pid is a previous life of it (a container restarted as PID 1): stale too.
    if (holder !== null && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `The embedded database in ${path.dirname(file)} is in use by process ${holder}. ` +
          'Stop it first (two processes on one embedded database lose writes), or set DATABASE_URL.',
      );
    }
    hooks.onStale?.();
    if (!removeStale(file, seen)) sleepSync(5); // another process is taking it over
  }
  throw new Error(`The embedded database lock ${file} keeps changing hands; try again`);
}

/** Removes the lock if it still holds `seen`; false while another process holds the takeover. */
function removeStale(file: string, seen: string): boolean {
  const takeover = `${file}.takeover`;
  const mine = `${process.pid} ${crypto.randomUUID()}`;
  if (!createExclusive(takeover, mine)) {
    // A taker that died within these few system calls would block everyone: clear its file.
    const other = readIfExists(takeover);
    const pid = other === null ? null : lockHolder(other);
    if (other !== null && !(pid !== null && isAlive(pid)) && readIfExists(takeover) === other)
      fs.rmSync(takeover, { force: true });
    return false;
  }
  try {
    // Nobody else removes it meanwhile: its dead owner cannot, other takers wait for the takeover.
    if (readIfExists(file) === seen) fs.rmSync(file, { force: true });
    return true;
  } finally {
    fs.rmSync(takeover, { force: true });
  }
}

/**
 * Creates `file` holding `content` unless it exists. The content is written to a file of our own
 * first and linked into place (link, like O_EXCL, fails if the name exists), so a reader never
 * sees the lock empty, half-written, and mistakes it for a stale one.
 */
function createExclusive(file: string, content: string): boolean {
  const draft = `${file}.${crypto.randomUUID()}.tmp`;
  fs.writeFileSync(draft, content, { flag: 'wx' });
  try {
    fs.linkSync(draft, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The pid at the start of a lock file (older versions wrote the pid alone). */
function lockHolder(content: string): number | null {
  const pid = Number.parseInt(content, 10);
  return Number.isFinite(pid) && pid > 0 ? pid : null;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openDatabase(config: Config, logger?: Logger): Promise<Database> {
  return config.DATABASE_URL
    ? createPostgres(config, config.DATABASE_URL)
    : createPglite(config.DATA_DIR, logger);
}

/**
 * Readiness probe: true when PostgreSQL answers within timeoutMs. A pool waiting for a connection
 * (the server unreachable, or every connection busy) would otherwise hold the probe for the whole
 * acquire timeout.
 */
export async function pingPostgres(knex: Knex, timeoutMs = 1000): Promise<boolean> {
  try {
    return (await within(knex.raw('select 1'), timeoutMs)) !== TIMED_OUT;
  } catch {
    return false;
  }
}
