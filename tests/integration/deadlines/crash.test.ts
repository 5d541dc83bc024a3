import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { deadlineJobId } from '../../../jobs/queues';
import { startDeadlineWorker } from '../../../jobs/runtime';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../setup/env';
import { createTeam } from '../../setup/factories';
import { deadlinesOf, notificationsFor, planFollowUp, waitFor, waitForStatus } from './helpers';

const NOW = new Date('2026-12-01T09:00:00.000Z');

/** Collects a child's output from the start, so no line is missed whenever we start waiting. */
function watch(child: ChildProcess) {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  return {
    waitForLine: (line: string) =>
      waitFor(async () => {
        if (child.exitCode !== null)
          throw new Error(`worker exited (${child.exitCode}): ${err.slice(-2000)}`);
        return out.includes(line);
      }, `the worker to print ${line}`),
  };
}

describe('worker killed in the middle of a job', () => {
  let ctx: TestContext;
  let child: ChildProcess | null = null;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await ctx.close();
  });

  it('when the worker is killed with SIGKILL mid-job, then another worker gets the job after the stall interval and the notification exists once', async () => {
    const team = await createTeam();
    child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'fixtures', 'slow-worker.ts')],
      {
        cwd: path.resolve(__dirname, '../../..'),
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          DATABASE_URL: TEST_DATABASE_URL,
          REDIS_URL: TEST_REDIS_URL,
          QUEUE_PREFIX: ctx.prefix,
          LOG_LEVEL: 'silent',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output = watch(child);
    await output.waitForLine('READY');

    const { res } = await planFollowUp(ctx.app, team.worker.email, NOW);
    const [deadline] = await deadlinesOf(res.body.id);
    await output.waitForLine('MID-JOB');
    // Written inside the open transaction: not visible yet.
    expect(await notificationsFor(team.worker.id)).toHaveLength(0);
    const job = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
    expect(await job!.getState()).toBe('active');

    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    const rescuer = await startDeadlineWorker(ctx.deps, {
      stalledInterval: 300,
      lockDuration: 1000,
    });
    try {
      await waitForStatus(deadline.id, 'done');
      expect(await notificationsFor(team.worker.id)).toHaveLength(1);
      const after = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
      expect(await after!.getState()).toBe('completed');
    } finally {
      await rescuer.close();
    }
  });
});
