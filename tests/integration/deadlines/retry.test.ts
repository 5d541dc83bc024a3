import { UnrecoverableError } from 'bullmq';
import { type Processor } from '../../../jobs/processor';
import { deadlineJobId } from '../../../jobs/queues';
import { processors } from '../../../jobs/registry';
import { startDeadlineWorker, type DeadlineWorker } from '../../../jobs/runtime';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createStructure, createTeam } from '../../setup/factories';
import { deadlinesOf, notificationsFor, planFollowUp, waitFor, waitForStatus } from './helpers';

const deadlineRepository = createDeadlineRepository();

const NOW = new Date('2026-12-01T09:00:00.000Z');

const jobState = async (ctx: TestContext, deadlineId: string) =>
  (await ctx.deps.queue.getJob(deadlineJobId(deadlineId)))?.getState();

describe('a deadline whose job keeps failing', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let worker: DeadlineWorker | null = null;
  let outage = false;
  let flakyCalls = 0;
  let brokenCalls = 0;
  // follow_up.due while PostgreSQL fails over: every attempt fails with an ordinary error.
  const flaky: Processor = async (c) => {
    flakyCalls += 1;
    if (outage) throw new Error('connect ECONNREFUSED 10.0.0.5:5432');
    return processors[FOLLOW_UP_DUE](c);
  };
  const broken: Processor = async () => {
    brokenCalls += 1;
    throw new UnrecoverableError('the subject can never be processed');
  };

  beforeAll(async () => {
    // A short cool-down: the reconciler's fresh job is due almost at once.
    ctx = await createTestContext({ clock, env: { DEADLINE_RETRY_COOLDOWN_MS: '50' } });
  });
  const startWorker = async () => {
    worker = await startDeadlineWorker(ctx.deps, {
      registry: { ...processors, [FOLLOW_UP_DUE]: flaky, 'test.broken': broken },
    });
  };
  afterEach(async () => {
    await worker?.close();
    worker = null;
  });
  afterAll(async () => ctx.close());

  it('when a processor fails with an ordinary error until its attempts run out, then the deadline stays pending, the reconciler re-arms it, and once the cause is gone the notification exists once', async () => {
    outage = true;
    const team = await createTeam();
    const { res } = await planFollowUp(ctx.app, team.worker.email, NOW);
    const [deadline] = await deadlinesOf(res.body.id);
    // Its job again, with 2 attempts 50 ms apart instead of the production schedule; a little
    // delayed, so the worker's start-up reconciliation has passed before it runs.
    await ctx.deps.queue.remove(deadlineJobId(deadline.id));
    await ctx.deps.queue.add(
      FOLLOW_UP_DUE,
      { deadlineId: deadline.id },
      {
        jobId: deadlineJobId(deadline.id),
        delay: 300,
        attempts: 2,
        backoff: { type: 'fixed', delay: 50 },
      },
    );
    await startWorker();

    await waitFor(
      async () => (await jobState(ctx, deadline.id)) === 'failed',
      'the job to use up its attempts',
    );
    const exhausted = await waitFor(async () => {
      const d = await deadlineRepository.findById(testKnex(), deadline.id);
      return d?.attempts === 2 ? d : undefined;
    }, 'both attempts recorded');
    expect(exhausted).toMatchObject({
      status: 'pending',
      attempts: 2,
      lastError: 'Error: connect ECONNREFUSED 10.0.0.5:5432',
    });
    expect(flakyCalls).toBe(2);
    expect(await notificationsFor(team.worker.id)).toHaveLength(0);

    // PostgreSQL is back; the reconciler's next pass finds the failed job of a pending row.
    outage = false;
    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 1, failed: 0 });
    const rearmed = (await deadlineRepository.findById(testKnex(), deadline.id))!;
    expect(rearmed.attempts).toBe(3);
    expect(rearmed.lastError).toBe('Re-armed after: connect ECONNREFUSED 10.0.0.5:5432');
    const fresh = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
    expect(fresh!.data).toEqual({ deadlineId: deadline.id });
    expect(fresh!.opts.attempts).toBe(5);

    await waitForStatus(deadline.id, 'done');
    expect(flakyCalls).toBe(3);
    expect(await notificationsFor(team.worker.id)).toHaveLength(1);
    expect(await jobState(ctx, deadline.id)).toBe('completed');

    // Nothing more to re-arm, and no second notification.
    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 0, failed: 0 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await notificationsFor(team.worker.id)).toHaveLength(1);
  });

  it('when a processor throws UnrecoverableError, then the deadline fails at once without retries and the reconciler leaves it failed', async () => {
    await startWorker();
    const structure = await createStructure();
    const id = await ctx.deps.uow((_trx, outbox) =>
      outbox.schedule({
        structureId: structure.id,
        kind: 'test.broken',
        subjectType: 'follow_up',
        subjectId: crypto.randomUUID(),
        dueAt: NOW,
      }),
    );

    const failed = await waitForStatus(id, 'failed');
    expect(failed).toMatchObject({
      attempts: 1,
      lastError: 'UnrecoverableError: the subject can never be processed',
    });
    const job = await ctx.deps.queue.getJob(deadlineJobId(id));
    // Queued with the production schedule of 5 attempts: only one was made.
    expect(job!.opts.attempts).toBe(5);
    expect(job!.attemptsMade).toBe(1);
    expect(brokenCalls).toBe(1);

    expect(await ctx.deps.relay.reconcile()).toMatchObject({ rearmed: 0, failed: 0 });
    expect((await deadlineRepository.findById(testKnex(), id))!.status).toBe('failed');
    expect(await jobState(ctx, id)).toBe('failed');
    expect(brokenCalls).toBe(1);
  });
});
