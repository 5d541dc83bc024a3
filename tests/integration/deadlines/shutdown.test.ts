import { deadlineJobId } from '../../../jobs/queues';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { createTeam } from '../../setup/factories';
import { exitWithin, waitForOutput, type Running } from '../start/processes';
import { deadlinesOf, notificationsFor, planFollowUp, startSlowWorker } from './helpers';

jest.setTimeout(60_000);

const NOW = new Date('2026-12-01T09:00:00.000Z');
const SHUTDOWN_TIMEOUT_MS = 10_000;

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

  it('when SIGTERM arrives in the middle of a job, then it takes no new job, the active one finishes (deadline done, one notification), the process exits 0 within the shutdown bound, and the next worker delivers the job it left, once', async () => {
    const team = await createTeam();
    // jobs/worker.ts itself (boot and signal handling), with a processor that stays active until
    // the process is told to stop, then takes 1.5 s more: the shutdown must wait for it.
    worker = await startSlowWorker(ctx.prefix, {
      FINISH_AFTER_SIGTERM_MS: '1500',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });

    const { res } = await planFollowUp(ctx.app, team.worker.email, NOW);
    const [deadline] = await deadlinesOf(res.body.id);
    await waitForOutput(worker, 'MID-JOB', 15_000);
    expect(worker.output()).not.toContain('JOB-FINISHED');

    worker.child.kill('SIGTERM');
    // Due while the worker winds down: it takes no new work, the next worker will.
    const second = await planFollowUp(ctx.app, team.worker2.email, NOW);
    // The process's own bound is SHUTDOWN_TIMEOUT_MS + 5 s; past it exitWithin kills it.
    expect(await exitWithin(worker, SHUTDOWN_TIMEOUT_MS + 5000)).toBe(0);
    expect(worker.output()).toContain('JOB-FINISHED');
    expect(worker.output().match(/MID-JOB/g)).toHaveLength(1);

    const [after] = await deadlinesOf(res.body.id);
    expect(after).toMatchObject({ id: deadline.id, status: 'done' });
    expect(await notificationsFor(team.worker.id)).toHaveLength(1);
    const job = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
    expect(await job!.getState()).toBe('completed');

    // The second deadline was left for the next worker: pending, no notification, and either
    // waiting in Redis or, when the web's enqueue after commit fell back to the outbox (a loaded
    // machine's Redis past the enqueue bound), for the next worker's relay. Which one depends on
    // the machine; that the next worker delivers it, once, does not.
    const [left] = await deadlinesOf(second.res.body.id);
    expect(left.status).toBe('pending');
    expect(await notificationsFor(team.worker2.id)).toHaveLength(0);
    const waiting = await ctx.deps.queue.getJob(deadlineJobId(left.id));
    if (waiting) expect(await waiting.getState()).toBe('waiting');
    else expect(left.enqueuedAt).toBeNull();

    worker = await startSlowWorker(ctx.prefix, { FINISH_AFTER_SIGTERM_MS: '0' });
    await waitForOutput(worker, 'MID-JOB', 15_000);
    worker.child.kill('SIGTERM');
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
