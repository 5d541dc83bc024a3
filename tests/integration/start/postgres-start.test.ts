import crypto from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { createCipher } from '../../../server/lib/crypto';
import { disableUser } from '../../../server/cli/commands';
import { MIGRATION_LOCK, migrationSource } from '../../../server/lib/db';
import { benchSeed } from '../../../server/seed/bench';
import { DEMO_ACCOUNTS, seedDemo } from '../../../server/seed/demo';
import { BENCH_EMAIL_DOMAIN } from '../../../server/seed/seed-accounts';
import { testKnex, truncateAll } from '../../setup/db';
import { DEFAULT_PASSWORD, testConfig } from '../../setup/context';
import { createTeam } from '../../setup/factories';
import { waitFor } from '../deadlines/helpers';
import {
  exitWithin,
  login,
  PRODUCTION_ENV,
  removeRedisKeys,
  start,
  startNpmScript,
  waitForHealthy,
  webEnv,
} from './processes';
import { freePort } from '../../setup/ports';
import { ADMIN_DATABASE_URL, TEST_DATABASE_NAME, TEST_DATABASE_URL } from '../../setup/env';

jest.setTimeout(120_000);

const prefix = `test-start-${crypto.randomBytes(4).toString('hex')}`;
const PRODUCTION = {
  ...PRODUCTION_ENV,
  // The production worker checks Redis's eviction policy; these tests are about the web.
  RUN_WORKER_IN_WEB: 'false',
};

const env = (port: number, extra: Record<string, string> = {}) =>
  webEnv(port, prefix, { LOG_LEVEL: 'warn', ...extra });
const HTTPS_PRODUCTION = { ...PRODUCTION, PUBLIC_URL: 'https://aller-vers.example' };

/** Starts the web in production, expects it to refuse (exit 1), and returns what it printed. */
async function refusedInProduction(): Promise<string> {
  const web = start('server/index.ts', [], env(await freePort(), HTTPS_PRODUCTION));
  expect(await exitWithin(web, 60_000)).toBe(1);
  return web.output();
}

/**
 * Starts the web with the environment `envOf` gives for its port, waits until it serves, runs
 * `check` on it, then stops it with SIGTERM and expects exit 0.
 */
async function servesThenStops(
  envOf: (port: number) => Record<string, string>,
  check: (web: ReturnType<typeof start>) => void | Promise<void> = () => {},
) {
  const port = await freePort();
  const web = start('server/index.ts', [], env(port, envOf(port)));
  try {
    await waitForHealthy(`http://127.0.0.1:${port}/healthz`, web, 60_000);
    await check(web);
  } finally {
    web.child.kill('SIGTERM');
    expect(await exitWithin(web, 60_000)).toBe(0);
  }
}

afterAll(async () => {
  await removeRedisKeys(prefix);
});

describe('npm start with DATABASE_URL', () => {
  beforeEach(async () => truncateAll());

  it('when the database is empty, then it migrates and serves but never seeds demo data', async () => {
    const port = await freePort();
    const web = start('server/index.ts', [], env(port, { NODE_ENV: 'development' }));
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, web, 60_000);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toMatchObject({ postgres: 'up', redis: 'up' });
      const [{ count }] = await testKnex()('structures').count({ count: '*' });
      expect(Number(count)).toBe(0);
      expect(web.output()).not.toContain('demo.aller-vers.fr');
    } finally {
      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 60_000)).toBe(0);
    }
  });

  it('when SIGTERM arrives while a slow request is in flight, then the request completes (200) and only then the process exits 0', async () => {
    const team = await createTeam();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const web = start('server/index.ts', [], env(port, { NODE_ENV: 'development' }));
    const holder = await testKnex().transaction();
    try {
      await waitForHealthy(`${base}/healthz`, web, 60_000);
      const cookie = await login(base, team.worker.email, DEFAULT_PASSWORD);
      const created = await fetch(`${base}/api/persons`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ alias: 'Lente', source: 'outreach' }),
      });
      const { id } = await created.json();

      // The test holds the person's row lock: the PATCH waits for it inside the app.
      await holder('persons').where({ id }).forUpdate().first();
      const patch = fetch(`${base}/api/persons/${id}`, {
        method: 'PATCH',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ version: 1, alias: 'Enfin' }),
      });
      await waitFor(async () => {
        const { rows } = await testKnex().raw(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return rows[0].n > 0;
      }, 'the PATCH to wait for the row lock');

      web.child.kill('SIGTERM');
      // New connections are refused while the in-flight request goes on.
      await waitFor(
        () =>
          fetch(`${base}/healthz`).then(
            () => false,
            () => true,
          ),
        'the server to stop accepting connections',
      );
      expect(web.child.exitCode).toBeNull();

      await holder.commit();
      const res = await patch;
      expect(res.status).toBe(200);
      expect((await res.json()).alias).toBe('Enfin');
      expect(await exitWithin(web, 30_000)).toBe(0);
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
      if (web.child.exitCode === null) web.child.kill('SIGKILL');
    }
  });

  it('when demo accounts exist in production, then it refuses to start', async () => {
    await seedDemo(testKnex(), { cipher: createCipher('1'.repeat(64)) });
    expect(await refusedInProduction()).toContain(
      'Refusing to start in production: 5 enabled account(s) of a seed, whose password is published (5 @demo.aller-vers.fr).',
    );
  });

  it('when the operator disables the demo accounts as told, then production starts once the last one is disabled', async () => {
    await seedDemo(testKnex(), { cipher: createCipher('1'.repeat(64)) });
    const [last, ...others] = DEMO_ACCOUNTS;
    // What `npm run cli -- users:disable --email …` runs.
    for (const a of others) await disableUser(testKnex(), testConfig(), a.email);
    expect(await refusedInProduction()).toContain(
      'Refusing to start in production: 1 enabled account(s) of a seed, whose password is published (1 @demo.aller-vers.fr).',
    );

    await disableUser(testKnex(), testConfig(), last.email);
    await servesThenStops(() => HTTPS_PRODUCTION);
  });

  it('when bench accounts (published password) are enabled in production, then it refuses to start saying what to do; once disabled, it starts', async () => {
    await benchSeed(testKnex(), { persons: 3, cipher: createCipher('1'.repeat(64)) });
    const accounts = (await testKnex()('users')
      .whereRaw('lower(email) like ?', [`%@${BENCH_EMAIL_DOMAIN}`])
      .pluck('email')) as string[];
    expect(accounts.length).toBeGreaterThan(0);
    const refused = await refusedInProduction();
    expect(refused).toContain(
      `Refusing to start in production: ${accounts.length} enabled account(s) of a seed, whose password is published (${accounts.length} @bench.aller-vers.test).`,
    );
    expect(refused).toContain('npm run cli -- users:disable --email');

    for (const email of accounts) await disableUser(testKnex(), testConfig(), email);
    await servesThenStops(() => HTTPS_PRODUCTION);
  });

  it('when production runs over plain HTTP (ALLOW_INSECURE_HTTP), then it serves and warns at start', async () => {
    await servesThenStops(
      (port) => ({
        ...PRODUCTION,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        ALLOW_INSECURE_HTTP: 'true',
      }),
      (web) =>
        expect(web.output()).toMatch(
          /production over plain HTTP \(ALLOW_INSECURE_HTTP=true\): the session cookie is sent without Secure and no HSTS/,
        ),
    );
  });

  it('when production runs at an https PUBLIC_URL, then it gives no plain-HTTP warning', async () => {
    await servesThenStops(
      () => HTTPS_PRODUCTION,
      (web) => expect(web.output()).not.toContain('plain HTTP'),
    );
  });
});

/**
 * Every web replica migrates at start (docker-compose.yml's WEB_REPLICAS): one waits for another's
 * migrations, however long they take, instead of giving up at its statement timeout, and replicas
 * starting together on an empty database both start.
 */
describe('web replicas migrating at start', () => {
  const STATEMENT_TIMEOUT = '300';

  /** How many backends of the database `knex` reads wait for the migration lock. */
  const waitingForMigrationLock = async (knex: Knex) => {
    const { rows } = await knex.raw<{ rows: { n: number }[] }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted
          AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = ?`,
      [MIGRATION_LOCK],
    );
    return rows[0].n;
  };

  it('when another replica is migrating for longer than the statement timeout, then the web waits for it and starts once it is done', async () => {
    await truncateAll();
    const port = await freePort();
    // What a replica holds while it migrates: the migration lock, and knex's lock row in its
    // open transaction.
    const migrating = await testKnex().transaction();
    let web: ReturnType<typeof start> | null = null;
    try {
      await migrating.raw('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      await migrating('knex_migrations_lock').update({ is_locked: 1 });
      web = start(
        'server/index.ts',
        [],
        env(port, { NODE_ENV: 'development', DB_STATEMENT_TIMEOUT_MS: STATEMENT_TIMEOUT }),
      );
      const running = web;
      await waitFor(
        async () =>
          running.child.exitCode !== null || (await waitingForMigrationLock(testKnex())) > 0,
        'the web to wait for the migration lock',
        60_000,
      );
      // Several statement timeouts later, it is still waiting.
      await new Promise((r) => setTimeout(r, 6 * Number(STATEMENT_TIMEOUT)));
      // (The output shows in the diff when it exited.)
      expect({ exitCode: web.child.exitCode, output: web.output() }).toEqual({
        exitCode: null,
        output: expect.any(String),
      });
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();

      await migrating.rollback();
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, web, 60_000);
      expect(await waitingForMigrationLock(testKnex())).toBe(0);
      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 60_000)).toBe(0);
    } finally {
      if (!migrating.isCompleted()) await migrating.rollback();
      if (web?.child.exitCode === null) web.child.kill('SIGKILL');
    }
  });

  it('when two replicas start together on an empty database, then one migrates, the other waits, and both serve', async () => {
    const name = `${TEST_DATABASE_NAME}_empty_${crypto.randomBytes(4).toString('hex')}`;
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    const admin = knexFactory({
      client: 'pg',
      connection: ADMIN_DATABASE_URL,
      pool: { min: 0, max: 1 },
    });
    await admin.raw('CREATE DATABASE ??', [name]);
    const empty = knexFactory({
      client: 'pg',
      connection: url.toString(),
      pool: { min: 0, max: 2 },
    });
    const webs: { web: ReturnType<typeof start>; port: number }[] = [];
    try {
      // Both are let go at once: held until each waits for the lock.
      const held = await empty.transaction();
      try {
        await held.raw('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
        for (let i = 0; i < 2; i++) {
          const port = await freePort();
          const web = start(
            'server/index.ts',
            [],
            env(port, {
              NODE_ENV: 'development',
              DATABASE_URL: url.toString(),
              DB_STATEMENT_TIMEOUT_MS: STATEMENT_TIMEOUT,
            }),
          );
          webs.push({ web, port });
        }
        await waitFor(
          async () =>
            webs.some(({ web }) => web.child.exitCode !== null) ||
            (await waitingForMigrationLock(empty)) === 2,
          'both webs to wait for the migration lock',
          60_000,
        );
      } finally {
        await held.rollback();
      }
      for (const { web, port } of webs)
        await waitForHealthy(`http://127.0.0.1:${port}/healthz`, web, 120_000);
      const { rows } = await empty.raw<{ rows: { n: number }[] }>(
        'SELECT count(*)::int AS n FROM knex_migrations',
      );
      expect(rows[0].n).toBe((await migrationSource.getMigrations([])).length);
      for (const { web } of webs) web.child.kill('SIGTERM');
      for (const { web } of webs) expect(await exitWithin(web, 60_000)).toBe(0);
    } finally {
      for (const { web } of webs) if (web.child.exitCode === null) web.child.kill('SIGKILL');
      await Promise.all(webs.map(({ web }) => web.exited));
      await empty.destroy();
      await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
      await admin.destroy();
    }
  });
});

/**
 * Docker (`CMD ["npm", "start"]` in the image, `npm run worker` in compose) and service managers
 * send SIGTERM to the process they started: npm. npm passes it to the shell that runs the script,
 * which must be replaced by the server (`exec`), or the server never hears it, goes on holding its
 * port and its lock, and gets killed without a clean shutdown when the grace period ends.
 */
describe('npm start and npm run worker, stopped the way a container is', () => {
  beforeEach(async () => truncateAll());

  it('when npm start gets SIGTERM, then the web shuts down cleanly, npm exits 0 and nothing keeps listening', async () => {
    const port = await freePort();
    const web = startNpmScript('start', env(port, { NODE_ENV: 'development', LOG_LEVEL: 'info' }));
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, web, 60_000);
      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 30_000)).toBe(0);
      expect(web.output()).toContain('Shutdown complete');
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      web.killGroup();
    }
  });

  it('when npm run worker gets SIGTERM, then the worker shuts down cleanly and npm exits 0', async () => {
    const worker = startNpmScript(
      'worker',
      env(await freePort(), { NODE_ENV: 'development', LOG_LEVEL: 'info' }),
    );
    try {
      await waitFor(
        async () => worker.output().includes('Deadline worker started'),
        'the worker to start',
        60_000,
      );
      worker.child.kill('SIGTERM');
      expect(await exitWithin(worker, 30_000)).toBe(0);
      expect(worker.output()).toContain('Shutdown complete');
    } finally {
      worker.killGroup();
    }
  });
});
