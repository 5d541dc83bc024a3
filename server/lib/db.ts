import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../config';
import type { Logger } from './logger';

// count(*) and bigint come back as strings from pg; every count we read fits a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export type DbKind = 'postgres' | 'pglite';

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

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export function createPostgres(
  config: Pick<Config, 'DB_POOL_MAX' | 'DB_STATEMENT_TIMEOUT_MS'>,
  url: string,
): Database {
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, statement_timeout: config.DB_STATEMENT_TIMEOUT_MS },
    pool: { min: 0, max: config.DB_POOL_MAX },
    // A request waiting for a connection fails after this instead of hanging.
    acquireConnectionTimeout: 10000,
  });
  return { knex, kind: 'postgres', close: () => knex.destroy() };
}

/**
 * The embedded PostgreSQL (PGlite) used when DATABASE_URL is unset. It has no lock between
 * processes, so we hold a lock file: a second process on the same folder is refused.
 */
export async function createPglite(dataDir: string, logger?: Logger): Promise<Database> {
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

function acquireLock(file: string): () => void {
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch {
    const holder = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    if (Number.isFinite(holder) && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `The embedded database in ${path.dirname(file)} is in use by process ${holder}. ` +
          'Stop it first (two processes on one embedded database lose writes), or set DATABASE_URL.',
      );
    }
    fs.writeFileSync(file, String(process.pid));
  }
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
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
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      knex.raw('select 1').then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
