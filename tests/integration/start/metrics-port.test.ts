import crypto from 'node:crypto';
import { exitWithin, removeRedisKeys, start, waitForHealthy, webEnv } from './processes';
import { freePort } from '../../setup/ports';

jest.setTimeout(120_000);

const prefix = `test-metrics-${crypto.randomBytes(4).toString('hex')}`;

afterAll(async () => {
  await removeRedisKeys(prefix);
});

describe('the private metrics port (METRICS_PORT)', () => {
  it('when METRICS_PORT is set, then the web serves /metrics and the queue dashboard there without a session, still asks a session for /metrics on its own port and serves no dashboard there, and closes both on SIGTERM', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const web = start(
      'server/index.ts',
      [],
      webEnv(port, prefix, {
        NODE_ENV: 'development',
        METRICS_PORT: String(metricsPort),
        RUN_WORKER_IN_WEB: 'false',
        LOG_LEVEL: 'warn',
      }),
    );
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, web, 60_000);
      const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(scraped.status).toBe(200);
      const text = await scraped.text();
      expect(text).toContain('aller_vers_deadline_lag_seconds');
      expect(text).toContain('route="/healthz"');
      expect((await fetch(`http://127.0.0.1:${metricsPort}/api/me`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
      // The queue dashboard, whose jobs span every structure, is the operator's: served on the
      // private port only, read-only.
      const board = await fetch(`http://127.0.0.1:${metricsPort}/queues/api/queues`);
      expect(board.status).toBe(200);
      expect(await board.text()).toContain('"deadlines"');
      const retry = await fetch(
        `http://127.0.0.1:${metricsPort}/queues/api/queues/deadlines/retry/failed`,
        { method: 'PUT' },
      );
      expect(retry.status).toBe(403);
      const onTheAppPort = await fetch(`http://127.0.0.1:${port}/queues/api/queues`, {
        redirect: 'manual',
      });
      expect(onTheAppPort.status).not.toBe(200);
    } finally {
      web.child.kill('SIGTERM');
      expect(await exitWithin(web, 60_000)).toBe(0);
    }
  });
});
