import request from 'supertest';
import { createMetricsApp } from '../../../server/features/metrics/metrics-router';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';

/** The value of one sample of the exposition text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * GET /metrics (prom-client): admins on the app's port, anyone on the private METRICS_PORT app;
 * HTTP latency by route pattern, the queue by state, the deadline lag, the pool.
 */
describe('metrics', () => {
  const clock = fixedClock('2026-12-05T22:00:00Z');
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let admin: Awaited<ReturnType<typeof loginAs>>;
  let worker: Awaited<ReturnType<typeof loginAs>>;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
    admin = await loginAs(ctx.app, team.admin.email);
    worker = await loginAs(ctx.app, team.worker.email);
    personId = (
      await worker.post('/api/persons').send({ alias: 'Nadia du parvis', source: 'outreach' })
    ).body.id;
    expect((await worker.get(`/api/persons/${personId}`)).status).toBe(200);
    // A deadline two minutes overdue: the oldest pending one.
    await testKnex()('deadlines').insert({
      structure_id: team.structure.id,
      kind: 'follow_up.due',
      subject_type: 'follow_up',
      subject_id: personId,
      due_at: new Date(clock.now().getTime() - 120_000),
    });
  });
  afterAll(async () => ctx.close());

  it('when an admin asks, then the text holds the latency by route pattern, the queue, the deadline lag and the pool, and no id or personal data', async () => {
    const res = await admin.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.text;
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/persons\/:id",status="200"\} 1$/m,
    );
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="POST",route="\/api\/persons",status="201"\} 1$/m,
    );
    expect(text).not.toContain(personId);
    expect(text).not.toContain('Nadia');
    for (const state of ['waiting', 'delayed', 'failed', 'active'])
      expect(sample(text, `aller_vers_queue_jobs{state="${state}"}`)).toEqual(expect.any(Number));
    expect(sample(text, 'aller_vers_deadline_lag_seconds')).toBeGreaterThanOrEqual(120);
    expect(sample(text, 'aller_vers_db_pool_connections{state="used"}')).toEqual(
      expect.any(Number),
    );
    expect(sample(text, 'aller_vers_db_pool_connections{state="pending_acquire"}')).toBe(0);
    expect(sample(text, 'aller_vers_db_pool_max')).toBe(ctx.config.DB_POOL_MAX);
    expect(sample(text, 'aller_vers_enqueue_breaker_open')).toBe(0);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('when a worker asks, then 403; anonymous, then 401 (JSON, not the login page)', async () => {
    const denied = await worker.get('/metrics');
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('forbidden');
    const anonymous = await request(ctx.app).get('/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthenticated');
  });

  it('when the private metrics port is asked without a session, then it serves the metrics, and nothing else', async () => {
    const app = createMetricsApp(ctx.deps.metrics);
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('aller_vers_deadline_lag_seconds');
    expect((await request(app).get('/api/me')).status).toBe(404);
    expect((await request(app).get('/')).status).toBe(404);
  });

  it('when every connection of the pool is taken, then the scrape answers within seconds without the deadline lag, the other metrics there', async () => {
    const held = await Promise.all(
      Array.from({ length: ctx.config.DB_POOL_MAX }, () => ctx.deps.knex.transaction()),
    );
    try {
      const started = Date.now();
      const res = await request(createMetricsApp(ctx.deps.metrics)).get('/metrics');
      // Well before the pool's acquire timeout (10 s), after which the scrape was a 500.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(res.status).toBe(200);
      expect(res.text).toContain('# TYPE aller_vers_deadline_lag_seconds gauge');
      expect(sample(res.text, 'aller_vers_deadline_lag_seconds')).toBeUndefined();
      expect(sample(res.text, 'aller_vers_db_pool_connections{state="used"}')).toBe(
        ctx.config.DB_POOL_MAX,
      );
      expect(sample(res.text, 'aller_vers_queue_jobs{state="waiting"}')).toEqual(
        expect.any(Number),
      );
    } finally {
      await Promise.all(held.map((trx) => trx.rollback()));
    }
    // The pool back, the lag is there again.
    const res = await request(createMetricsApp(ctx.deps.metrics)).get('/metrics');
    expect(sample(res.text, 'aller_vers_deadline_lag_seconds')).toBeGreaterThanOrEqual(120);
  });

  it('when PostgreSQL cannot be reached, then the scrape still answers, without the deadline lag', async () => {
    const down = await createTestContext({
      clock,
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/aller_vers_down' },
    });
    try {
      const res = await request(createMetricsApp(down.deps.metrics)).get('/metrics');
      expect(res.status).toBe(200);
      expect(sample(res.text, 'aller_vers_deadline_lag_seconds')).toBeUndefined();
      expect(sample(res.text, 'aller_vers_enqueue_breaker_open')).toBe(0);
    } finally {
      await down.close();
    }
  });

  it('when a path has no route (a probe of unknown URLs), then it is counted under one label', async () => {
    await request(ctx.app).get('/api/some/unknown/123456');
    const text = (await admin.get('/metrics')).text;
    expect(text).toContain('route="unmatched"');
    expect(text).not.toContain('123456');
  });
});
