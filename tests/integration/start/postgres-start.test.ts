import crypto from 'node:crypto';
import { createCipher } from '../../../server/lib/crypto';
import { seedDemo } from '../../../server/seed/demo';
import { testKnex, truncateAll } from '../../setup/db';
import { DEFAULT_PASSWORD } from '../../setup/context';
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

jest.setTimeout(120_000);

const prefix = `test-start-${crypto.randomBytes(4).toString('hex')}`;
const PRODUCTION = {
  ...PRODUCTION_ENV,
  // The production worker checks Redis's eviction policy; these tests are about the web.
  RUN_WORKER_IN_WEB: 'false',
};

const env = (port: number, extra: Record<string, string> = {}) =>
  webEnv(port, prefix, { LOG_LEVEL: 'warn', ...extra });

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
    const web = start(
      'server/index.ts',
      [],
      env(await freePort(), {
        ...PRODUCTION,
        PUBLIC_URL: 'https://aller-vers.example',
      }),
    );
    const code = await exitWithin(web, 60_000);
    expect(code).toBe(1);
    expect(web.output()).toMatch(/Refusing to start in production: 5 demo account/);
  });

  it('when production runs over plain HTTP (ALLOW_INSECURE_HTTP), then it serves and warns at start', async () => {
    const port = await freePort();
    const web = start(
      'server/index.ts',
      [],
      env(port, {
        ...PRODUCTION,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        ALLOW_INSECURE_HTTP: 'true',
      }),
    );
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, web, 60_000);
      expect(web.output()).toMatch(
        /production over plain HTTP \(ALLOW_INSECURE_HTTP=true\): the session cookie is sent without Secure and no HSTS/,
      );
    } finally {
      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 60_000)).toBe(0);
    }
  });

  it('when production runs at an https PUBLIC_URL, then it gives no plain-HTTP warning', async () => {
    const port = await freePort();
    const web = start(
      'server/index.ts',
      [],
      env(port, { ...PRODUCTION, PUBLIC_URL: 'https://aller-vers.example' }),
    );
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, web, 60_000);
      expect(web.output()).not.toContain('plain HTTP');
    } finally {
      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 60_000)).toBe(0);
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
