import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import { createCipher } from '../../../server/lib/crypto';
import { seedDemo } from '../../../server/seed/demo';
import { testKnex, truncateAll } from '../../setup/db';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../setup/env';
import { childEnv, exitWithin, freePort, start, waitForHealthy } from './processes';

jest.setTimeout(120_000);

const prefix = `test-start-${crypto.randomBytes(4).toString('hex')}`;
const secret = (c: string) => c.repeat(40);

const env = (port: number, extra: Record<string, string> = {}) =>
  childEnv({
    DATABASE_URL: TEST_DATABASE_URL,
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    ...extra,
  });

afterAll(async () => {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
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

  it('when demo accounts exist in production, then it refuses to start', async () => {
    await seedDemo(testKnex(), { cipher: createCipher('1'.repeat(64)) });
    const web = start(
      'server/index.ts',
      [],
      env(await freePort(), {
        NODE_ENV: 'production',
        SESSION_SECRET: secret('s'),
        LINK_SECRET: secret('l'),
        ENCRYPTION_KEY: '1'.repeat(64),
      }),
    );
    const code = await exitWithin(web, 60_000);
    expect(code).toBe(1);
    expect(web.output()).toMatch(/Refusing to start in production: 5 demo account/);
  });
});
