import crypto from 'node:crypto';
import { truncateAll } from '../../setup/db';
import { TEST_REDIS_URL } from '../../setup/env';
import { DEFAULT_PASSWORD } from '../../setup/context';
import { createTeam } from '../../setup/factories';
import { freePort } from '../../setup/ports';
import { startRedisProxy } from '../../setup/redis-proxy';
import { waitFor } from '../deadlines/helpers';
import {
  exitWithin,
  login,
  removeRedisKeys,
  start,
  waitForHealthy,
  waitForOutput,
  webEnv,
} from './processes';

// The worker's connection is dropped after 30 s without an answer (server/lib/redis.ts).
jest.setTimeout(180_000);

const prefix = `test-stalled-${crypto.randomBytes(4).toString('hex')}`;

afterAll(async () => {
  await removeRedisKeys(prefix);
});

describe('npm start with a Redis that accepts connections but never answers', () => {
  beforeEach(async () => truncateAll());

  it('starts, serves and logs in; picks Redis up once it answers; and a Redis that stalls later holds no request', async () => {
    const team = await createTeam();
    const proxy = await startRedisProxy(new URL(TEST_REDIS_URL));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const web = start(
      'server/index.ts',
      [],
      webEnv(port, prefix, {
        NODE_ENV: 'development',
        REDIS_URL: proxy.url,
        SHUTDOWN_TIMEOUT_MS: '1000',
        LOG_LEVEL: 'info',
      }),
    );
    const readiness = async () => (await (await fetch(`${base}/readyz`)).json()).redis;
    try {
      // Before the fix, the start waited for ever on the ready check and never listened.
      await waitForHealthy(`${base}/healthz`, web, 60_000);
      await waitForOutput(web, 'aller-vers web started', 30_000);
      expect(web.output()).toContain(
        'the web keeps working and deadlines stay in PostgreSQL; reminders wait for Redis',
      );
      expect(web.output()).toContain(
        'Redis is unavailable: deadlines stay in PostgreSQL and reminders wait for Redis',
      );
      expect(await readiness()).toBe('down');
      await login(base, team.worker.email, DEFAULT_PASSWORD);

      // Redis answers again: the stalled connections are dropped and made again.
      proxy.pass();
      await waitFor(async () => (await readiness()) === 'up', 'the web to see Redis', 30_000);
      await waitForOutput(web, 'Redis is back: relaying and reconciling deadlines', 60_000);

      // Redis stalls with the connections open: a login, which counts its attempt in Redis,
      // still answers (the attempt is then counted in memory) rather than waiting for ever.
      proxy.freeze();
      let timer: NodeJS.Timeout | undefined;
      const cookie = await Promise.race([
        login(base, team.worker.email, DEFAULT_PASSWORD),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('the login waited for the stalled Redis')),
            30_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      const persons = await fetch(`${base}/api/persons`, { headers: { cookie } });
      expect(persons.status).toBe(200);
      await waitFor(async () => (await readiness()) === 'down', 'the web to see Redis stalled');

      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 60_000)).toBe(0);
    } finally {
      if (web.child.exitCode === null) web.child.kill('SIGKILL');
      await proxy.close();
    }
  });
});
