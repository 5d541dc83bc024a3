import { deadlineJobId } from '../../../jobs/queues';
import { deadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createStructure } from '../../setup/factories';

const NOW = new Date('2026-12-01T09:00:00.000Z');

describe('reconciler after Redis lost its data', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
  });
  afterAll(async () => ctx.close());

  it('when Redis is flushed, then every pending deadline gets its job back and done or cancelled ones do not', async () => {
    const structure = await createStructure();
    const schedule = (hours: number) =>
      ctx.deps.uow((_trx, outbox) =>
        outbox.schedule({
          structureId: structure.id,
          kind: 'follow_up.due',
          subjectType: 'follow_up',
          subjectId: crypto.randomUUID(),
          dueAt: new Date(NOW.getTime() + hours * 3600_000),
        }),
      );
    const pending = await Promise.all([1, 2, 3, 24, 48].map(schedule));
    const doneId = await schedule(5);
    await testKnex().transaction((trx) => deadlineRepository.finish(trx, doneId, 'done'));
    const cancelledId = await schedule(6);
    const cancelledSubject = (await deadlineRepository.findById(testKnex(), cancelledId))!
      .subjectId;
    await ctx.deps.uow((_trx, outbox) => outbox.cancel('follow_up', cancelledSubject));
    expect(await ctx.deps.queue.getJobCountByTypes('delayed')).toBe(6);

    // Redis restarted without persistence: every key of this test database is gone.
    await ctx.deps.redis.flushdb();
    expect(await ctx.deps.queue.getJobCountByTypes('delayed', 'waiting')).toBe(0);

    expect(await ctx.deps.relay.reconcile()).toEqual({ checked: 5, requeued: 5 });

    expect(await ctx.deps.queue.getJobCountByTypes('delayed', 'waiting')).toBe(5);
    for (const id of pending) {
      const job = await ctx.deps.queue.getJob(deadlineJobId(id));
      expect(job?.data).toEqual({ deadlineId: id });
    }
    expect(await ctx.deps.queue.getJob(deadlineJobId(doneId))).toBeUndefined();
    expect(await ctx.deps.queue.getJob(deadlineJobId(cancelledId))).toBeUndefined();
    // The delay still counts from the clock to due_at.
    const first = await ctx.deps.queue.getJob(deadlineJobId(pending[0]));
    expect(first?.opts.delay).toBe(3600_000);

    // Running it again finds nothing missing.
    expect(await ctx.deps.relay.reconcile()).toEqual({ checked: 5, requeued: 0 });
    expect(await ctx.deps.queue.getJobCountByTypes('delayed', 'waiting')).toBe(5);
  });
});
