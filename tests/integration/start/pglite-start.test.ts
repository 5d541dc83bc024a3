import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../setup/env';
import {
  childEnv,
  exitWithin,
  login,
  runCli,
  start,
  waitForHealthy,
  waitForOutput,
  type Running,
} from './processes';
import { freePort } from '../../setup/ports';

// The first start creates the embedded database (seconds, more on a busy machine).
jest.setTimeout(180_000);

const DEMO_WORKER = 'travailleur@demo.aller-vers.fr';
const DEMO_PASSWORD = 'demo-aller-vers-2026';

describe('npm start with no configuration (embedded database)', () => {
  let dataDir: string;
  let prefix: string;
  let port: number;
  let baseUrl: string;
  let web: Running;

  const env = (p: number) =>
    childEnv({
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      PORT: String(p),
      HOST: '127.0.0.1',
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      PUBLIC_URL: undefined,
    });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aller-vers-start-'));
    prefix = `test-start-${crypto.randomBytes(4).toString('hex')}`;
    port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    web = start('server/index.ts', [], env(port));
    await waitForHealthy(`${baseUrl}/healthz`, web, 120_000);
  });

  afterAll(async () => {
    if (web.child.exitCode === null) {
      web.child.kill('SIGTERM');
      await exitWithin(web, 30_000);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('prints the URL to open, the demo logins, and where the API reference and its document are', async () => {
    // The banner follows the in-process worker's start, which may end after /healthz answers.
    await waitForOutput(web, `open ${baseUrl}`, 60_000);
    expect(web.output()).toContain(`open ${baseUrl}`);
    expect(web.output()).toContain(DEMO_WORKER);
    expect(web.output()).toContain(DEMO_PASSWORD);
    // The readable reference is the page; /api/docs is the raw OpenAPI JSON.
    expect(web.output()).toMatch(new RegExp(`API reference: +${baseUrl}/docs/api\n`));
    expect(web.output()).toMatch(new RegExp(`OpenAPI document \\(JSON\\): +${baseUrl}/api/docs\n`));
  });

  it('when the demo worker logs in, then the seeded persons are listed', async () => {
    const cookie = await login(baseUrl, DEMO_WORKER, DEMO_PASSWORD);
    const res = await fetch(`${baseUrl}/api/persons`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { alias: string | null }[]; total: number };
    expect(body.total).toBeGreaterThanOrEqual(4);
    expect(body.items.map((p) => p.alias)).toContain('Homme ~50 ans, parvis de la médiathèque');
  });

  it('when a second process starts on the same data folder, then it is refused', async () => {
    const second = start('server/index.ts', [], env(await freePort()));
    const code = await exitWithin(second, 90_000);
    expect(code).not.toBe(0);
    expect(second.output()).toMatch(/in use by process \d+/);
    // The first one is still serving.
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
  });

  it('when the CLI runs migrate on the same data folder meanwhile, then it is refused', async () => {
    const r = await runCli(['migrate'], env(0));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: The embedded database in .* is in use by process \d+/);
  });

  it('when it gets SIGTERM, then it exits 0 and releases the data folder', async () => {
    web.child.kill('SIGTERM');
    expect(await exitWithin(web, 60_000)).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'aller-vers.lock'))).toBe(false);
  });

  it('when it starts again on the same folder, then it does not seed twice', async () => {
    const p2 = await freePort();
    const again = start('server/index.ts', [], env(p2));
    try {
      await waitForHealthy(`http://127.0.0.1:${p2}/healthz`, again, 90_000);
      const cookie = await login(`http://127.0.0.1:${p2}`, DEMO_WORKER, DEMO_PASSWORD);
      const res = await fetch(`http://127.0.0.1:${p2}/api/persons`, { headers: { cookie } });
      const body = (await res.json()) as { items: { alias: string | null }[] };
      const aliases = body.items.map((p) => p.alias);
      expect(aliases.filter((a) => a === 'Homme ~50 ans, parvis de la médiathèque')).toHaveLength(
        1,
      );
    } finally {
      again.child.kill('SIGTERM');
      expect(await exitWithin(again, 60_000)).toBe(0);
    }
  });
});

describe('npm start while Redis is unreachable', () => {
  it('serves and logs in, says reminders wait for Redis, and still stops cleanly on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aller-vers-noredis-'));
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const web = start(
      'server/index.ts',
      [],
      childEnv({
        NODE_ENV: 'development',
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        // Nothing listens on port 1.
        REDIS_URL: 'redis://127.0.0.1:1',
        SHUTDOWN_TIMEOUT_MS: '1000',
        LOG_LEVEL: 'warn',
      }),
    );
    try {
      await waitForHealthy(`${baseUrl}/healthz`, web, 120_000);
      // Said as the worker starts, which may end after /healthz answers.
      await waitForOutput(web, 'reminders wait for Redis', 60_000);
      expect(web.output()).toContain('reminders wait for Redis');
      const ready = await fetch(`${baseUrl}/readyz`);
      expect(await ready.json()).toMatchObject({ postgres: 'up', redis: 'down' });
      const cookie = await login(baseUrl, DEMO_WORKER, DEMO_PASSWORD);
      const persons = await fetch(`${baseUrl}/api/persons`, { headers: { cookie } });
      expect(persons.status).toBe(200);

      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 60_000)).toBe(0);
      expect(fs.existsSync(path.join(dataDir, 'aller-vers.lock'))).toBe(false);
    } finally {
      if (web.child.exitCode === null) web.child.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
