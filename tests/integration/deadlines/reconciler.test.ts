import { UnrecoverableError, Worker } from 'bullmq';
import { DEADLINE_QUEUE, deadlineJobId } from '../../../jobs/queues';
import { startDeadlineWorker } from '../../../jobs/runtime';
import { createRedis } from '../../../server/lib/redis';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createStructure } from '../../setup/factories';
import { waitFor, waitForStatus } from './helpers';

const deadlineRepository = createDeadlineRepository();

const NOW = new Date('2026-12-01T09:00:00.000Z');

describe('reconciler after Redis lost its data', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  beforeAll(async () => {
    // A short cool-down: a re-armed job is due almost at once.
    ctx = await createTestContext({ clock, env: { DEADLINE_RETRY_COOLDOWN_MS: '50' } });
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

    expect(await ctx.deps.relay.reconcile()).toEqual({
      checked: 5,
      requeued: 5,
      rearmed: 0,
      failed: 0,
    });

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
    expect(await ctx.deps.relay.reconcile()).toEqual({
      checked: 5,
      requeued: 0,
      rearmed: 0,
      failed: 0,
    });
    expect(await ctx.deps.queue.getJobCountByTypes('delayed', 'waiting')).toBe(5);
  });

  /**
   * Fails every job waiting in the queue the way BullMQ does for a job stalled too often, or
   * one whose attempts ran out while the row could not be told: a bare worker, so no deadline
   * row hears of it.
   */
  async function failQueuedJobs(count: number, error: Error) {
    const connection = createRedis(ctx.config.REDIS_URL, 'worker');
    let failures = 0;
    let allFailed!: () => void;
    const done = new Promise<void>((resolve) => (allFailed = resolve));
    const worker = new Worker(
      DEADLINE_QUEUE,
      async () => {
        throw error;
      },
      { connection, prefix: ctx.prefix },
    );
    worker.on('failed', () => {
      failures += 1;
      if (failures === count) allFailed();
    });
    await done;
    await worker.close();
    connection.disconnect();
  }

  /**
   * A deadline due at `dueAt`, written at `plannedAt` (by default at its due moment, or now if
   * that is later). The row's created_at comes from the database's clock, which the test's fixed
   * clock does not move: it is set to the moment on the test's clock.
   */
  async function scheduleDue(
    structureId: string,
    dueAt: Date,
    plannedAt = new Date(Math.min(dueAt.getTime(), NOW.getTime())),
  ) {
    const id = await ctx.deps.uow((_trx, outbox) =>
      outbox.schedule({
        structureId,
        kind: 'follow_up.due',
        subjectType: 'follow_up',
        subjectId: crypto.randomUUID(),
        dueAt,
      }),
    );
    await testKnex()('deadlines').where({ id }).update({ created_at: plannedAt });
    return id;
  }

  // Each case below starts from no deadline at all: the first case's pending ones are not theirs.
  const noDeadlines = () => testKnex()('deadlines').delete();

  it('when BullMQ failed a job for stalling too often, then the reconciler re-arms its deadline instead of failing it, counting each re-arm, and a worker then runs it', async () => {
    await ctx.deps.redis.flushdb();
    await noDeadlines();
    const structure = await createStructure();
    const id = await scheduleDue(structure.id, NOW);
    const stalled = new UnrecoverableError('job stalled more than allowable limit');
    await failQueuedJobs(1, stalled);
    expect((await deadlineRepository.findById(testKnex(), id))!).toMatchObject({
      status: 'pending',
      attempts: 0,
    });

    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 1, failed: 0 });

    const row = (await deadlineRepository.findById(testKnex(), id))!;
    expect(row).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'Re-armed after: job stalled more than allowable limit',
    });
    const fresh = await ctx.deps.queue.getJob(deadlineJobId(id));
    expect(['delayed', 'waiting']).toContain(await fresh!.getState());
    expect(fresh!.attemptsMade).toBe(0);
    expect(fresh!.data).toEqual({ deadlineId: id });
    // Its fresh job is there: a second pass re-arms nothing.
    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 0, failed: 0 });

    // It stalls out again: re-armed again, and the count goes on.
    await failQueuedJobs(1, stalled);
    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 1, failed: 0 });
    expect((await deadlineRepository.findById(testKnex(), id))!.attempts).toBe(2);

    // A healthy worker takes the fresh job (its follow-up does not exist: skipped).
    const worker = await startDeadlineWorker(ctx.deps);
    try {
      const processed = await waitForStatus(id, 'skipped');
      expect(processed.lastError).toBe('follow-up not found');
    } finally {
      await worker.close();
    }
  });

  it("when a job stalled too often reaches the app's own worker, then its deadline stays pending and the reconciler re-arms it, and that worker then runs it", async () => {
    await ctx.deps.redis.flushdb();
    await noDeadlines();
    const structure = await createStructure();
    const id = await scheduleDue(structure.id, NOW);
    // What BullMQ's stall check leaves on a job that stalled more than maxStalledCount times:
    // back in the waiting list, tagged; the next worker to take it fails it itself, with an
    // UnrecoverableError, and calls the worker's failed handler.
    await ctx.deps.redis.hset(
      `${ctx.prefix}:${DEADLINE_QUEUE}:${deadlineJobId(id)}`,
      'defa',
      'job stalled more than allowable limit',
    );
    // The worker's own reconciler (it runs at start) is switched off: had it read the job just
    // after the worker failed it, it would have re-armed it before this test saw it failed.
    const reconcile = async () => ({ checked: 0, requeued: 0, rearmed: 0, failed: 0 });
    const worker = await startDeadlineWorker({
      ...ctx.deps,
      relay: { ...ctx.deps.relay, reconcile },
    });
    try {
      const tagged = await ctx.deps.queue.getJob(deadlineJobId(id));
      await waitFor(async () => (await tagged!.getState()) === 'failed', 'BullMQ to fail the job');
      // The handler counts the failure but does not fail the deadline: the workers crashed,
      // nothing says the deadline can never succeed.
      const row = await waitFor(async () => {
        const d = await deadlineRepository.findById(testKnex(), id);
        return d?.attempts === 1 ? d : undefined;
      }, 'the failure recorded on the row');
      expect(row).toMatchObject({
        status: 'pending',
        lastError: 'UnrecoverableError: job stalled more than allowable limit',
      });

      expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 1, failed: 0 });
      const processed = await waitForStatus(id, 'skipped');
      expect(processed.lastError).toBe('follow-up not found');
    } finally {
      await worker.close();
    }
  });

  it('when a deadline whose job failed is past the give-up age, then it is marked failed with the reason, and a younger one is re-armed', async () => {
    await ctx.deps.redis.flushdb();
    await noDeadlines();
    const structure = await createStructure();
    // The default give-up age is 72 hours past the due moment.
    const old = await scheduleDue(structure.id, new Date(NOW.getTime() - 73 * 3600_000));
    const young = await scheduleDue(structure.id, new Date(NOW.getTime() - 71 * 3600_000));
    // Their jobs with a single attempt, so the ordinary error below uses them up at once.
    for (const id of [old, young]) {
      await ctx.deps.queue.remove(deadlineJobId(id));
      await ctx.deps.queue.add(
        'follow_up.due',
        { deadlineId: id },
        { jobId: deadlineJobId(id), attempts: 1 },
      );
    }
    await failQueuedJobs(2, new Error('connection terminated unexpectedly'));

    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 1, failed: 1 });

    const gaveUp = (await deadlineRepository.findById(testKnex(), old))!;
    expect(gaveUp.status).toBe('failed');
    expect(gaveUp.processedAt).not.toBeNull();
    expect(gaveUp.lastError).toBe(
      'Gave up: still failing more than 72 h after its due moment (last failure: connection terminated unexpectedly)',
    );
    // Left as BullMQ failed it (removed after removeOnFail's age), not re-added.
    expect(await (await ctx.deps.queue.getJob(deadlineJobId(old)))!.getState()).toBe('failed');
    expect((await deadlineRepository.findById(testKnex(), young))!).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'Re-armed after: connection terminated unexpectedly',
    });

    // Failed is final: later passes leave it alone.
    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 0, failed: 0 });
    expect((await deadlineRepository.findById(testKnex(), old))!.status).toBe('failed');
  });

  it('when a deadline planned already far past its due moment fails its first round, then it is re-armed: the give-up age counts from its planning; past the age from then, it is marked failed', async () => {
    await ctx.deps.redis.flushdb();
    await noDeadlines();
    const structure = await createStructure();
    // Both due 100 hours ago (a follow-up planned in the past, its reminders): one planned an
    // hour ago, the other 73 hours ago.
    const due = new Date(NOW.getTime() - 100 * 3600_000);
    const recent = await scheduleDue(structure.id, due, new Date(NOW.getTime() - 3600_000));
    const old = await scheduleDue(structure.id, due, new Date(NOW.getTime() - 73 * 3600_000));
    for (const id of [recent, old]) {
      await ctx.deps.queue.remove(deadlineJobId(id));
      await ctx.deps.queue.add(
        'follow_up.due',
        { deadlineId: id },
        { jobId: deadlineJobId(id), attempts: 1 },
      );
    }
    await failQueuedJobs(2, new Error('connection terminated unexpectedly'));

    // Before, both were given up at once: 100 hours past their due moment.
    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 1, failed: 1 });
    expect((await deadlineRepository.findById(testKnex(), recent))!).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'Re-armed after: connection terminated unexpectedly',
    });
    expect((await deadlineRepository.findById(testKnex(), old))!).toMatchObject({
      status: 'failed',
      lastError:
        'Gave up: still failing more than 72 h after it was planned, past its due moment (last failure: connection terminated unexpectedly)',
    });
  });
});
