import { UnrecoverableError, Worker } from 'bullmq';
import { DEADLINE_QUEUE, deadlineJobId } from '../../../jobs/queues';
import { createRedis } from '../../../server/lib/redis';
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

  // FLUSHDB of the test's own Redis database: for the app's keys, the same as FLUSHALL or a
  // restart without persistence. FLUSHALL itself would empty every database of a Redis shared
  // with other test runs.
  it('when the Redis database loses every key (FLUSHDB), then every pending deadline gets its job back and done or cancelled ones do not', async () => {
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

    // As after a restart without persistence: every key of this Redis database is gone.
    await ctx.deps.redis.flushdb();
    expect(await ctx.deps.queue.getJobCountByTypes('delayed', 'waiting')).toBe(0);

    expect(await ctx.deps.relay.reconcile()).toEqual({ checked: 5, requeued: 5, failed: 0 });

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
    expect(await ctx.deps.relay.reconcile()).toEqual({ checked: 5, requeued: 0, failed: 0 });
    expect(await ctx.deps.queue.getJobCountByTypes('delayed', 'waiting')).toBe(5);
  });

  it('when BullMQ failed a job without our processor recording it (stalled too often), then the reconciler marks its deadline failed', async () => {
    await ctx.deps.redis.flushdb();
    const structure = await createStructure();
    const id = await ctx.deps.uow((_trx, outbox) =>
      outbox.schedule({
        structureId: structure.id,
        kind: 'follow_up.due',
        subjectType: 'follow_up',
        subjectId: crypto.randomUUID(),
        dueAt: NOW,
      }),
    );
    // A bare worker that fails the job the way BullMQ does for a job stalled too often:
    // the deadline row is never told.
    const connection = createRedis(ctx.config.REDIS_URL, 'worker');
    const worker = new Worker(
      DEADLINE_QUEUE,
      async () => {
        throw new UnrecoverableError('job stalled more than allowable limit');
      },
      { connection, prefix: ctx.prefix },
    );
    await new Promise<void>((resolve) => worker.on('failed', () => resolve()));
    await worker.close();
    connection.disconnect();
    expect((await deadlineRepository.findById(testKnex(), id))!.status).toBe('pending');

    const result = await ctx.deps.relay.reconcile();

    expect(result.failed).toBe(1);
    const row = (await deadlineRepository.findById(testKnex(), id))!;
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('stalled');
  });
});
