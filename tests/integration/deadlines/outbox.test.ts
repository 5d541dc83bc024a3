import { createDeadlineRelay } from '../../../server/features/deadlines/deadline-relay';
import { fixedClock } from '../../../server/lib/clock';
import { deadlineJobId } from '../../../jobs/queues';
import pino from 'pino';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createStructure, createTeam } from '../../setup/factories';
import { deadlinesOf, planFollowUp } from './helpers';

const NOW = new Date('2026-12-01T09:00:00.000Z');

describe('transactional outbox', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
  });
  afterAll(async () => ctx.close());

  it('when the transaction that schedules a deadline throws, then no deadline row and no job', async () => {
    const structure = await createStructure();
    const subjectId = crypto.randomUUID();
    await expect(
      ctx.deps.uow(async (_trx, outbox) => {
        await outbox.schedule({
          structureId: structure.id,
          kind: 'follow_up.due',
          subjectType: 'follow_up',
          subjectId,
          dueAt: new Date(NOW.getTime() + 3600_000),
        });
        throw new Error('something failed after the write');
      }),
    ).rejects.toThrow('something failed after the write');

    expect(await testKnex()('deadlines').where({ subject_id: subjectId })).toHaveLength(0);
    expect(await ctx.deps.queue.getJobCounts('delayed', 'waiting', 'active')).toEqual({
      delayed: 0,
      waiting: 0,
      active: 0,
    });
  });

  it('when it commits, then exactly one job with a deterministic id and the delay until due_at', async () => {
    const structure = await createStructure();
    const dueAt = new Date(NOW.getTime() + 2 * 86400_000 + 1234);
    const id = await ctx.deps.uow((_trx, outbox) =>
      outbox.schedule({
        structureId: structure.id,
        kind: 'follow_up.due',
        subjectType: 'follow_up',
        subjectId: crypto.randomUUID(),
        dueAt,
      }),
    );

    const jobs = await ctx.deps.queue.getJobs(['delayed', 'waiting']);
    expect(jobs).toHaveLength(1);
    expect(jobs[0].id).toBe(`deadline-${id}`);
    expect(jobs[0].name).toBe('follow_up.due');
    expect(jobs[0].data).toEqual({ deadlineId: id });
    expect(jobs[0].opts.delay).toBe(dueAt.getTime() - clock.now().getTime());
    const row = await testKnex()('deadlines').where({ id }).first();
    expect(row.status).toBe('pending');
    expect(row.enqueued_at).not.toBeNull();
    await ctx.deps.queue.remove(jobs[0].id!);
  });

  it('when several deadlines are scheduled together, then one INSERT, one job each after commit; cancelling the rows pending() read removes their jobs after commit', async () => {
    const structure = await createStructure();
    const subjectId = crypto.randomUUID();
    const at = (h: number) => new Date(NOW.getTime() + h * 3600_000);
    const base = { structureId: structure.id, subjectType: 'person', subjectId };
    const inserts: string[] = [];
    const onQuery = (q: { sql: string }) => {
      if (/^insert into "deadlines"/i.test(q.sql)) inserts.push(q.sql);
    };
    ctx.deps.knex.on('query', onQuery);
    let ids: string[];
    try {
      ids = await ctx.deps.uow((_trx, outbox) =>
        outbox.scheduleAll([
          { ...base, kind: 'person.no_contact', dueAt: at(1) },
          { ...base, kind: 'person.suggest_close', dueAt: at(2) },
        ]),
      );
    } finally {
      ctx.deps.knex.removeListener('query', onQuery);
    }
    expect(inserts).toHaveLength(1);
    const rows = await testKnex()('deadlines').whereIn('id', ids).orderBy('due_at');
    expect(rows.map((r) => [r.id, r.kind, r.status])).toEqual([
      [ids[0], 'person.no_contact', 'pending'],
      [ids[1], 'person.suggest_close', 'pending'],
    ]);
    const jobIds = async () =>
      (await ctx.deps.queue.getJobs(['delayed', 'waiting'])).map((j) => j.id).sort();
    expect(await jobIds()).toEqual(ids.map((id) => `deadline-${id}`).sort());

    const cancelled = await ctx.deps.uow(async (_trx, outbox) => {
      const pending = await outbox.pending('person', [subjectId], ['person.no_contact']);
      expect(pending.map((p) => p.id)).toEqual([ids[0]]);
      const done = await outbox.cancelHeld(pending.map((p) => p.id));
      // Before the commit the job is still there: it goes after.
      expect(await jobIds()).toContain(`deadline-${ids[0]}`);
      return done;
    });
    expect(cancelled).toEqual([ids[0]]);
    expect((await testKnex()('deadlines').where({ id: ids[0] }).first()).status).toBe('cancelled');
    expect(await jobIds()).toEqual([`deadline-${ids[1]}`]);
    await ctx.deps.queue.remove(`deadline-${ids[1]}`);
  });

  it('when deadlines already due are enqueued together, after commit or by the relay, then each job waits with no delay', async () => {
    const structure = await createStructure();
    const base = { structureId: structure.id, subjectType: 'person', kind: 'person.no_contact' };
    const due = (minutesAgo: number) => ({
      ...base,
      subjectId: crypto.randomUUID(),
      dueAt: new Date(NOW.getTime() - minutesAgo * 60_000),
    });
    const check = async (ids: string[]) => {
      const jobs = await Promise.all(ids.map((id) => ctx.deps.queue.getJob(deadlineJobId(id))));
      expect(jobs.map((j) => j?.opts.delay)).toEqual(ids.map(() => 0));
      expect(await Promise.all(jobs.map((j) => j!.getState()))).toEqual(ids.map(() => 'waiting'));
      await Promise.all(ids.map((id) => ctx.deps.queue.remove(deadlineJobId(id))));
    };
    // After commit: one enqueue of the three.
    await check(
      await ctx.deps.uow((_trx, outbox) => outbox.scheduleAll([due(0), due(5), due(60)])),
    );

    // By the relay: rows written without the enqueue after commit (jobs, the seed).
    const ids = await ctx.deps.knex.transaction((trx) =>
      ctx.deps.outboxIn(trx).scheduleAll([due(0), due(5), due(60)]),
    );
    expect(await ctx.deps.relay.relayPending()).toBeGreaterThanOrEqual(3);
    await check(ids);
  });

  it('when the relay meets a row a job is processing, then it marks the others without waiting for that job, and a later pass marks it', async () => {
    const structure = await createStructure();
    // The relay's pass reads the oldest rows first: these three are the only ones never enqueued.
    await testKnex()('deadlines').whereNull('enqueued_at').update({ enqueued_at: NOW });
    const ids = await ctx.deps.knex.transaction((trx) =>
      ctx.deps.outboxIn(trx).scheduleAll(
        [0, 1, 2].map(() => ({
          structureId: structure.id,
          subjectType: 'person',
          subjectId: crypto.randomUUID(),
          kind: 'person.no_contact',
          dueAt: new Date(NOW.getTime() + 86400_000),
        })),
      ),
    );
    const marked = async () =>
      (await testKnex()('deadlines').whereIn('id', ids).whereNotNull('enqueued_at'))
        .map((d) => d.id)
        .sort();
    // A delivery batch holds the rows it claimed for as long as it runs (as a job holds its
    // own); a cancel holds another KEY SHARE.
    const job = await testKnex().transaction();
    const cancel = await testKnex().transaction();
    try {
      await job('deadlines').where({ id: ids[0] }).forUpdate().first();
      await cancel('deadlines').where({ id: ids[1] }).forKeyShare().first();
      // Before, this waited for the job's transaction (until the statement timeout, 15 s, with a
      // job as long as this one) and then failed, the whole batch unmarked. In batches of one,
      // the pass reads past the held row rather than reading it again and again.
      expect(await ctx.deps.relay.relayPending({ batch: 1 })).toBe(2);
      expect(await marked()).toEqual([ids[1], ids[2]].sort());
      expect(await ctx.deps.queue.getJob(deadlineJobId(ids[0]))).toBeDefined();
    } finally {
      await cancel.commit();
      await job.commit();
    }
    // Free again and still pending: the next pass marks it.
    expect(await ctx.deps.relay.relayPending()).toBe(1);
    expect(await marked()).toEqual([...ids].sort());
    await Promise.all(ids.map((id) => ctx.deps.queue.remove(deadlineJobId(id))));
  });

  it('when a job runs a deadline whose row the relay could not mark, then the job marks it', async () => {
    const structure = await createStructure();
    const [id] = await ctx.deps.knex.transaction((trx) =>
      ctx.deps.outboxIn(trx).scheduleAll([
        {
          structureId: structure.id,
          subjectType: 'person',
          subjectId: crypto.randomUUID(),
          kind: 'person.no_contact',
          dueAt: new Date(NOW.getTime() + 86400_000),
        },
      ]),
    );
    await testKnex()('deadlines').where({ id }).update({ enqueued_at: null });
    const job = await testKnex().transaction();
    try {
      expect(
        (await ctx.deps.repos.deadlines.lockForProcessing(job, id))!.enqueuedAt,
      ).not.toBeNull();
    } finally {
      await job.commit();
    }
    expect((await testKnex()('deadlines').where({ id }).first()).enqueued_at).not.toBeNull();
    await ctx.deps.queue.remove(deadlineJobId(id));
  });

  describe('when Redis is down at commit time', () => {
    let down: TestContext;
    beforeAll(async () => {
      down = await createTestContext({ clock, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    });
    afterAll(async () => down.close());

    it('then the follow-up is still created (201), its deadline waits in the outbox, and the relay enqueues it once Redis is there', async () => {
      const team = await createTeam();
      const dueAt = new Date(NOW.getTime() + 86400_000);
      const { res } = await planFollowUp(down.app, team.worker.email, dueAt);
      expect(res.status).toBe(201);

      const [deadline] = await deadlinesOf(res.body.id);
      expect(deadline).toMatchObject({ status: 'pending', enqueuedAt: null, dueAt });

      // The same database, now relayed through a queue whose Redis answers.
      const relay = createDeadlineRelay({
        knex: down.deps.knex,
        deadlines: down.deps.repos.deadlines,
        queue: ctx.deps.queue,
        clock,
        logger: pino({ level: 'silent' }),
      });
      expect(await relay.relayPending()).toBeGreaterThanOrEqual(1);
      const job = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
      expect(job?.data).toEqual({ deadlineId: deadline.id });
      expect(job?.opts.delay).toBe(86400_000);
      const [after] = await deadlinesOf(res.body.id);
      expect(after.enqueuedAt).not.toBeNull();
      expect(await relay.relayPending()).toBe(0);
    });
  });
});
