import { deadlineJobId } from '../../../jobs/queues';
import { startDeadlineWorker } from '../../../jobs/runtime';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { createTeam } from '../../setup/factories';
import { waitForOutput, type Running } from '../start/processes';
import {
  deadlinesOf,
  notificationsFor,
  planFollowUp,
  startSlowWorker,
  waitForStatus,
} from './helpers';

const NOW = new Date('2026-12-01T09:00:00.000Z');

describe('worker killed in the middle of a job', () => {
  let ctx: TestContext;
  let child: Running | null = null;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
  });
  afterAll(async () => {
    if (child && child.child.exitCode === null) child.child.kill('SIGKILL');
    await ctx.close();
  });

  it('when the worker is killed with SIGKILL mid-job, then another worker gets the job after the stall interval and the notification exists once', async () => {
    const team = await createTeam();
    child = await startSlowWorker(ctx.prefix);

    const { res } = await planFollowUp(ctx.app, team.worker.email, NOW);
    const [deadline] = await deadlinesOf(res.body.id);
    await waitForOutput(child, 'MID-JOB', 15_000);
    // Written inside the open transaction: not visible yet. Only the follow-up's notification
    // is counted: the child runs on the real clock and plans the next 08:30 digest, which the
    // rescuer (every processor) would deliver if that moment fell within the test.
    expect(await notificationsFor(team.worker.id, FOLLOW_UP_DUE)).toHaveLength(0);
    const job = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
    expect(await job!.getState()).toBe('active');

    child.child.kill('SIGKILL');
    await child.exited;

    const rescuer = await startDeadlineWorker(ctx.deps, {
      stalledInterval: 300,
      lockDuration: 1000,
    });
    try {
      await waitForStatus(deadline.id, 'done');
      expect(await notificationsFor(team.worker.id, FOLLOW_UP_DUE)).toHaveLength(1);
      const after = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
      expect(await after!.getState()).toBe('completed');
    } finally {
      await rescuer.close();
    }
  });
});
