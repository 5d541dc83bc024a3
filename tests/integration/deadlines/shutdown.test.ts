import { deadlineJobId } from '../../../jobs/queues';
import { startDeadlineWorker } from '../../../jobs/runtime';
import { createDeadlineRelay } from '../../../server/features/deadlines/deadline-relay';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createStructure, createTeam } from '../../setup/factories';
import { exitWithin, waitForOutput, type Running } from '../start/processes';
import { deadlinesOf, notificationsFor, planFollowUp, startSlowWorker, waitFor } from './helpers';

// Two worker processes start (tsx compiles each), each within its own bounds below.
jest.setTimeout(120_000);

const NOW = new Date('2026-12-01T09:00:00.000Z');
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** How long the stopping worker is watched with a job waiting: it takes jobs within ms. */
const WATCH_MS = 1000;

describe('the worker process on SIGTERM', () => {
  let ctx: TestContext;
  let worker: Running | null = null;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
  });
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await ctx.close();
  });

  /** The job of a deadline, in Redis: the web's enqueue after commit, else the relay's. */
  const queued = (deadlineId: string) =>
    waitFor(async () => {
      const job = await ctx.deps.queue.getJob(deadlineJobId(deadlineId));
      // The web leaves its rows to the relay when Redis answered late (a loaded machine).
      if (!job) await ctx.deps.relay.relayPending().catch(() => 0);
      return job;
    }, `the job of deadline ${deadlineId} in Redis`);

  it('when SIGTERM arrives in the middle of a job, then it takes no new job, the active one finishes (deadline done, one notification), the process exits 0 within the shutdown bound, and the next worker delivers the job it left, once', async () => {
    const team = await createTeam();
    // jobs/worker.ts itself (boot and signal handling), with a processor that stays active until
    // the process has received SIGTERM and then SIGUSR2: the shutdown must wait for it.
    worker = await startSlowWorker(ctx.prefix, {
      FINISH_ON_SIGUSR2: '1',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });

    const { res } = await planFollowUp(ctx.app, team.worker.email, NOW);
    const [deadline] = await deadlinesOf(res.body.id);
    await waitForOutput(worker, 'MID-JOB', 15_000);
    expect(worker.output()).not.toContain('JOB-FINISHED');

    worker.child.kill('SIGTERM');
    // Due while the worker winds down, its job in Redis while the worker is still running: it
    // takes no new work, the next worker will.
    const second = await planFollowUp(ctx.app, team.worker2.email, NOW);
    const [left] = await deadlinesOf(second.res.body.id);
    const waiting = await queued(left.id);
    await new Promise((r) => setTimeout(r, WATCH_MS));
    expect(worker.child.exitCode).toBeNull();
    expect(await waiting.getState()).toBe('waiting');

    worker.child.kill('SIGUSR2');
    // The process's own bound is SHUTDOWN_TIMEOUT_MS + 5 s; past it exitWithin kills it.
    expect(await exitWithin(worker, SHUTDOWN_TIMEOUT_MS + 5000)).toBe(0);
    expect(worker.output()).toContain('JOB-FINISHED');
    expect(worker.output().match(/MID-JOB/g)).toHaveLength(1);

    const [after] = await deadlinesOf(res.body.id);
    expect(after).toMatchObject({ id: deadline.id, status: 'done' });
    expect(await notificationsFor(team.worker.id)).toHaveLength(1);
    const job = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
    expect(await job!.getState()).toBe('completed');
    expect((await deadlinesOf(second.res.body.id))[0].status).toBe('pending');
    expect(await notificationsFor(team.worker2.id)).toHaveLength(0);
    expect(await waiting.getState()).toBe('waiting');

    // The next worker takes the job that was left, and delivers it once.
    worker = await startSlowWorker(ctx.prefix, { FINISH_ON_SIGUSR2: '1' });
    await waitForOutput(worker, 'MID-JOB', 15_000);
    worker.child.kill('SIGTERM');
    worker.child.kill('SIGUSR2');
    expect(await exitWithin(worker, SHUTDOWN_TIMEOUT_MS + 5000)).toBe(0);
    expect(worker.output().match(/MID-JOB/g)).toHaveLength(1);
    expect((await deadlinesOf(second.res.body.id))[0]).toMatchObject({
      id: left.id,
      status: 'done',
    });
    expect(await notificationsFor(team.worker2.id)).toHaveLength(1);
    expect(await notificationsFor(team.worker.id)).toHaveLength(1);
  });
});

describe('the worker closing during long relay and reconciler passes', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
  });
  afterAll(async () => ctx.close());

  /** Batches a pass reads before it has walked ROWS pending rows, each read slowed by READ_MS. */
  const ROWS = 10_000;
  const BATCHES = ROWS / 500;
  const READ_MS = 250;

  it('when the worker is closed while each pass has many batches to go, then close returns after the batch under way, each pass ending early, and the next pass goes on', async () => {
    const structureId = (await createStructure()).id;
    // Pending, never enqueued, due in a month: the relay and the reconciler both walk them all.
    const dueAt = new Date(NOW.getTime() + 30 * 86_400_000);
    for (let i = 0; i < ROWS; i += 2000)
      await testKnex()('deadlines').insert(
        Array.from({ length: 2000 }, () => ({
          structure_id: structureId,
          kind: 'test.later',
          subject_type: 'follow_up',
          subject_id: crypto.randomUUID(),
          due_at: dueAt,
        })),
      );
    // The table read slowly, as at millions of rows on a busy database.
    const repo = createDeadlineRepository();
    const reads = { notYetEnqueued: 0, pendingAfter: 0 };
    const slow =
      <A extends unknown[], R>(name: keyof typeof reads, fn: (...a: A) => Promise<R>) =>
      async (...a: A) => {
        reads[name]++;
        await new Promise((r) => setTimeout(r, READ_MS));
        return fn(...a);
      };
    const deadlines = {
      ...repo,
      notYetEnqueued: slow('notYetEnqueued', repo.notYetEnqueued),
      pendingAfter: slow('pendingAfter', repo.pendingAfter),
    };
    const relay = createDeadlineRelay({ ...ctx.deps, deadlines });
    const worker = await startDeadlineWorker({ ...ctx.deps, relay });
    await waitFor(
      async () => reads.notYetEnqueued >= 2 && reads.pendingAfter >= 2,
      'both passes under way',
    );

    const started = Date.now();
    await worker.close();
    // Before, close waited for both passes to walk the whole table: at least BATCHES reads of
    // READ_MS each, 5 s here.
    expect(Date.now() - started).toBeLessThan((BATCHES * READ_MS) / 2);
    expect(reads.notYetEnqueued).toBeLessThan(BATCHES);
    expect(reads.pendingAfter).toBeLessThan(BATCHES);
    const left = await testKnex()('deadlines')
      .where({ structure_id: structureId })
      .whereNull('enqueued_at')
      .count<{ n: string }[]>('* as n');
    expect(Number(left[0].n)).toBeGreaterThan(0);

    // The next pass, of this worker's relay or another's, goes on where the table stands.
    expect(await ctx.deps.relay.relayPending()).toBe(Number(left[0].n));
  });
});
