import { Writable } from 'node:stream';
import type { Express } from 'express';
import { createApp } from '../../../server/app';
import { buildContainer, type Deps } from '../../../server/container';
import { createObservationRepository } from '../../../server/features/observation/observation-repository';
import { createPostgres, poolStats } from '../../../server/lib/db';
import { createLogger } from '../../../server/lib/logger';
import { createTestContext, loginAs, testConfig, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { TEST_DATABASE_URL } from '../../setup/env';
import { createTeam } from '../../setup/factories';
import { inYears } from '../../setup/dates';

describe('logs carry no personal data (security 13)', () => {
  const lines: string[] = [];
  let deps: Deps;
  let app: Express;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const config = testConfig({ LOG_LEVEL: 'info' });
    deps = await buildContainer(config, {
      db: createPostgres(config, TEST_DATABASE_URL),
      logger: createLogger('info', sink),
    });
    app = createApp(deps);
  });
  afterAll(async () => deps.close());

  it('when a worker logs in, records and searches a person, then the request logs hold none of it', async () => {
    const team = await createTeam();
    const agent = await loginAs(app, team.worker.email);
    const created = await agent.post('/api/persons').send({
      firstName: 'Nadia',
      lastName: 'Benali',
      phone: '06 12 34 56 78',
      source: 'outreach',
      situation: 'Dort dans sa voiture',
    });
    expect(created.status).toBe(201);
    await agent.get('/api/persons?q=Benali').expect(200);
    await agent.get(`/api/persons/${created.body.id}`).expect(200);
    // An unexpected error is logged with its details: still no personal data.
    deps.logger.error(
      { person: { firstName: 'Nadia', situation: 'Dort dans sa voiture' } },
      'boom',
    );

    const log = lines.join('');
    expect(log).toContain('"path":"/api/persons"'); // requests are logged…
    for (const secret of [
      team.worker.email,
      'un mot de passe',
      'Nadia',
      'Benali',
      '06 12 34 56 78',
      'voiture',
      'av.sid=',
    ]) {
      expect(log).not.toContain(secret); // …without what they carried
    }
    expect(log).toContain('[redacted]');
  });

  it("when a database constraint refuses a person row, then the 500's logged error keeps its code and constraint but not the row PostgreSQL quotes back", async () => {
    const team = await createTeam();
    const agent = await loginAs(app, team.worker.email);
    // A constraint the API does not know about: PostgreSQL's own error, with its detail, reaches the log.
    await testKnex().raw(
      "ALTER TABLE persons ADD CONSTRAINT test_no_karim CHECK (first_name <> 'Karim') NOT VALID",
    );
    let res;
    try {
      res = await agent.post('/api/persons').send({
        firstName: 'Karim',
        lastName: 'Haddad',
        phone: '07 98 76 54 32',
        address: '12 impasse des Tilleuls',
        source: 'outreach',
      });
    } finally {
      await testKnex().raw('ALTER TABLE persons DROP CONSTRAINT test_no_karim');
    }
    expect(res.status).toBe(500);
    const logged = lines
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'Request failed' && l.requestId === res.body.error.requestId);
    expect(logged.err).toMatchObject({ code: '23514', constraint: 'test_no_karim' });
    expect(logged.err.detail).toBe('[redacted]');
    const log = lines.join('');
    for (const secret of ['Karim', 'Haddad', '07 98 76 54 32', 'Tilleuls', 'Failing row']) {
      expect(log).not.toContain(secret);
    }
  });
});

describe('pool discipline under load (security 28)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ env: { DB_POOL_MAX: '2' } });
  });
  afterAll(async () => ctx.close());

  it('when 40 requests that each open a transaction arrive on a pool of 2, then they queue and all succeed', async () => {
    const team = await createTeam();
    const agent = await loginAs(ctx.app, team.worker.email);
    const person = await agent
      .post('/api/persons')
      .send({ alias: 'Sous charge', source: 'outreach' });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        agent.post(`/api/persons/${person.body.id}/contacts`).send({
          occurredAt: new Date(Date.UTC(2026, 10, 1, 8, i)).toISOString(),
          channel: 'phone',
          outcome: 'not_reached',
          nextFollowUpAt: inYears(4, '01-06T09:00:00Z'),
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(201));
    const contacts = await agent.get(`/api/persons/${person.body.id}/contacts?pageSize=100`);
    expect(contacts.body.total).toBe(40);
  });
});

describe('a statement past DB_STATEMENT_TIMEOUT_MS (security 28)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    // A pool of one: the request after the timeout is served only if its connection came back.
    ctx = await createTestContext({ env: { DB_POOL_MAX: '1', DB_STATEMENT_TIMEOUT_MS: '300' } });
  });
  afterAll(async () => ctx.close());

  it('when an update waits on a row locked elsewhere past the statement timeout, then 503 timeout, the connection is freed and the next request on the pool of one is served', async () => {
    const team = await createTeam();
    const agent = await loginAs(ctx.app, team.worker.email);
    const person = await agent
      .post('/api/persons')
      .send({ alias: 'Ligne verrouillée', source: 'outreach' })
      .expect(201);
    // Another connection (not the app's) holds the person's row: the app's UPDATE waits on it.
    const locker = await testKnex().transaction();
    try {
      await locker('persons').where({ id: person.body.id }).forUpdate().first();
      const res = await agent
        .patch(`/api/persons/${person.body.id}`)
        .send({ version: person.body.version, alias: 'Jamais écrit' });
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: 'timeout', requestId: expect.any(String) });
      expect(poolStats(ctx.deps.knex)).toMatchObject({ used: 0, pendingAcquires: 0, max: 1 });
      // The lock is still held: the pool's one connection serves another request meanwhile.
      const read = await agent.get(`/api/persons/${person.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ alias: 'Ligne verrouillée', version: person.body.version });
    } finally {
      await locker.rollback();
    }
    const row = await testKnex()('persons').where({ id: person.body.id }).first();
    expect(row).toMatchObject({ alias: 'Ligne verrouillée', version: person.body.version });
  });
});

describe('parallel workers (DB_PARALLEL_WORKERS)', () => {
  const show = async (ctx: TestContext) =>
    (await ctx.deps.knex.raw('SHOW max_parallel_workers_per_gather')).rows[0]
      .max_parallel_workers_per_gather as string;

  it("when the app connects, then its statements start no parallel worker, unless configured; a refresh's transaction gets PostgreSQL's default", async () => {
    const none = await createTestContext();
    const three = await createTestContext({ env: { DB_PARALLEL_WORKERS: '3' } });
    try {
      expect(await show(none)).toBe('0');
      expect(await show(three)).toBe('3');
      const { rows } = await none.deps.knex.raw(
        "SELECT boot_val FROM pg_settings WHERE name = 'max_parallel_workers_per_gather'",
      );
      const inRefresh = await none.deps.knex.transaction(async (trx) => {
        await createObservationRepository().allowLongStatements(trx, 60_000);
        return (await trx.raw('SHOW max_parallel_workers_per_gather')).rows[0]
          .max_parallel_workers_per_gather as string;
      });
      expect(inRefresh).toBe(rows[0].boot_val);
      expect(Number(inRefresh)).toBeGreaterThan(0);
      // SET LOCAL: the connection is back to none after the refresh's transaction.
      expect(await show(none)).toBe('0');
    } finally {
      await Promise.all([none.close(), three.close()]);
    }
  });
});
