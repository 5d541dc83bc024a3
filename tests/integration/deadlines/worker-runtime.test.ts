import { Writable } from 'node:stream';
import pino from 'pino';
import { done, type Processor } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import { deadlineJobId } from '../../../jobs/queues';
import {
  EvictionPolicyError,
  startDeadlineWorker,
  type DeadlineWorker,
} from '../../../jobs/runtime';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import { FOLLOW_UP_DUE } from '../../../server/features/follow-ups/follow-up-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, type TestContext } from '../../setup/context';
import { TEST_REDIS_URL } from '../../setup/env';
import { startRedisProxy } from '../../setup/redis-proxy';
import { testKnex } from '../../setup/db';
import { createStructure, createTeam } from '../../setup/factories';
import { freePort } from '../../setup/ports';
import {
  exitWithin,
  PRODUCTION_ENV,
  start,
  testServicesEnv,
  waitForOutput,
  webEnv,
} from '../start/processes';
import { deadlinesOf, notificationsFor, planFollowUp, waitFor, waitForStatus } from './helpers';

const deadlineRepository = createDeadlineRepository();

const NOW = new Date('2026-12-01T09:00:00.000Z');

/** Redis' answer to CONFIG GET maxmemory-policy on a Redis that evicts keys. */
const EVICTING = '*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n';

/**
 * A proxy in front of the test Redis that holds the worker's eviction policy check past the
 * start's bound, then answers it with an evicting policy once thawed (the shared test Redis
 * itself must keep noeviction).
 */
async function evictingRedisAfterStart() {
  const proxy = await startRedisProxy(new URL(TEST_REDIS_URL), { passing: true });
  proxy.holdOn('maxmemory-policy');
  proxy.answer('maxmemory-policy', EVICTING);
  return proxy;
}

/** A logger whose lines (warnings and up) the test reads. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  return { lines, logger };
}

describe('deadline worker runtime', () => {
  const clock = fixedClock(NOW);
  let ctx: TestContext;
  let structureId: string;
  beforeAll(async () => {
    ctx = await createTestContext({ clock, env: { RELAY_INTERVAL_MS: '100' } });
    structureId = (await createStructure()).id;
  });
  afterAll(async () => ctx.close());

  const schedule = (kind: string, dueAt = NOW) =>
    ctx.deps.uow((_trx, outbox) =>
      outbox.schedule({
        structureId,
        kind,
        subjectType: 'follow_up',
        subjectId: crypto.randomUUID(),
        dueAt,
      }),
    );

  describe('failures', () => {
    let worker: DeadlineWorker;
    let calls = 0;
    const flaky: Processor = async () => {
      calls += 1;
      throw new Error('partner API answered 502');
    };
    beforeAll(async () => {
      worker = await startDeadlineWorker(ctx.deps, {
        registry: { ...processors, 'test.flaky': flaky },
      });
    });
    afterAll(async () => worker.close());

    it('when a job has a kind nobody processes, then it fails once without retries and the deadline shows why', async () => {
      const id = await schedule('nobody.knows');
      const failed = await waitForStatus(id, 'failed');
      expect(failed.lastError).toMatch(
        /UnrecoverableError: No processor for deadline kind "nobody.knows"/,
      );
      expect(failed.attempts).toBe(1);
      const job = await ctx.deps.queue.getJob(deadlineJobId(id));
      expect(await job!.getState()).toBe('failed');
      expect(job!.attemptsMade).toBe(1);
    });

    it('when a job points to a deadline that does not exist, then it fails once without retries', async () => {
      const job = await ctx.deps.queue.add(
        FOLLOW_UP_DUE,
        { deadlineId: crypto.randomUUID() },
        { jobId: 'deadline-missing-row' },
      );
      const state = await waitFor(async () => {
        const s = await job.getState();
        return s === 'failed' ? s : undefined;
      }, 'the job to fail');
      expect(state).toBe('failed');
      const after = await ctx.deps.queue.getJob(job.id!);
      expect(after!.attemptsMade).toBe(1);
      expect(after!.failedReason).toMatch(/does not exist/);
    });

    it('when a processor keeps failing with an ordinary error, then each attempt is recorded and the deadline stays pending once they are used up', async () => {
      // Written already marked enqueued, in one transaction: the worker's relay loop (every
      // 100 ms here) takes any committed row not yet enqueued, and would add its own job with the
      // production attempts and backoff before the one below (on a loaded machine, it did).
      const id = await ctx.deps.uow(async (trx) => {
        const inserted = await deadlineRepository.insert(trx, {
          structureId,
          kind: 'test.flaky',
          subjectType: 'follow_up',
          subjectId: crypto.randomUUID(),
          dueAt: NOW,
        });
        await deadlineRepository.markEnqueued(trx, [inserted]);
        return inserted;
      });
      // Enqueued by hand with a short backoff, instead of the production 2 s exponential one.
      await ctx.deps.queue.add(
        'test.flaky',
        { deadlineId: id },
        { jobId: deadlineJobId(id), attempts: 2, backoff: { type: 'fixed', delay: 50 } },
      );
      const job = await waitFor(async () => {
        const state = await ctx.deps.queue.getJobState(deadlineJobId(id));
        // Read once failed: a job read before its last attempt keeps that moment's count.
        return state === 'failed' ? ctx.deps.queue.getJob(deadlineJobId(id)) : undefined;
      }, 'the job to use up its attempts');
      expect(job!.attemptsMade).toBe(2);
      // Not failed for good: left pending, with its attempts and error, for the reconciler.
      const row = await waitFor(async () => {
        const d = await deadlineRepository.findById(testKnex(), id);
        return d?.attempts === 2 ? d : undefined;
      }, 'both attempts on the row');
      expect(row).toMatchObject({
        status: 'pending',
        attempts: 2,
        lastError: 'Error: partner API answered 502',
      });
      expect(calls).toBe(2);
    });
  });

  it('when a deadline was written while Redis was away, then the relay loop of the running worker enqueues and delivers it', async () => {
    // The reconciler would find the deadline too: it is switched off, so only the relay loop
    // can deliver it.
    const reconcile = jest.fn(async () => ({ checked: 0, requeued: 0, rearmed: 0, failed: 0 }));
    const worker = await startDeadlineWorker({
      ...ctx.deps,
      relay: { ...ctx.deps.relay, reconcile },
    });
    try {
      const team = await createTeam();
      const { res } = await planFollowUp(
        ctx.app,
        team.worker.email,
        new Date(NOW.getTime() + 5000),
      );
      const [deadline] = await deadlinesOf(res.body.id);
      // As if the enqueue after commit had failed: no job, enqueued_at null.
      await ctx.deps.queue.remove(deadlineJobId(deadline.id));
      await testKnex()('deadlines').where({ id: deadline.id }).update({ enqueued_at: null });
      clock.advance(5000);

      await waitForStatus(deadline.id, 'done');
      expect(await notificationsFor(team.worker.id)).toHaveLength(1);
      expect(
        (await deadlineRepository.findById(testKnex(), deadline.id))!.enqueuedAt,
      ).not.toBeNull();
      expect(reconcile).toHaveBeenCalled();
    } finally {
      await worker.close();
      clock.set(NOW);
    }
  });

  it('when a worker starts after Redis lost its jobs, then it reconciles them from PostgreSQL', async () => {
    const later = new Date(NOW.getTime() + 7 * 86400_000);
    const ids = await Promise.all([schedule(FOLLOW_UP_DUE, later), schedule(FOLLOW_UP_DUE, later)]);
    await ctx.deps.redis.flushdb();
    const worker = await startDeadlineWorker(ctx.deps);
    try {
      for (const id of ids) {
        const job = await waitFor(() => ctx.deps.queue.getJob(deadlineJobId(id)), `job of ${id}`);
        // The job is back as it was: named by its kind, carrying the deadline's id only, and
        // waiting for its due date a week ahead.
        expect(job!.name).toBe(FOLLOW_UP_DUE);
        expect(job!.data).toEqual({ deadlineId: id });
        expect(await job!.getState()).toBe('delayed');
      }
      expect(await deadlineRepository.findById(testKnex(), ids[0])).toMatchObject({
        status: 'pending',
      });
    } finally {
      await worker.close();
    }
  });

  it('when the worker is closed while a job runs, then close waits for it and the deadline is done', async () => {
    const team = await createTeam();
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slow: Processor = async (c) => {
      started();
      await released;
      return processors[FOLLOW_UP_DUE](c);
    };
    const worker = await startDeadlineWorker(ctx.deps, { registry: { [FOLLOW_UP_DUE]: slow } });
    const { res } = await planFollowUp(ctx.app, team.worker.email, NOW);
    const [deadline] = await deadlinesOf(res.body.id);
    await isStarted;

    let closed = false;
    const closing = worker.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false);
    release();
    await closing;

    expect((await deadlineRepository.findById(testKnex(), deadline.id))!.status).toBe('done');
    expect(await notificationsFor(team.worker.id)).toHaveLength(1);
    const job = await ctx.deps.queue.getJob(deadlineJobId(deadline.id));
    expect(await job!.getState()).toBe('completed');
  });

  it('when Redis is down at start, then the worker starts anyway, warns clearly and closes cleanly', async () => {
    const down = await createTestContext({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    const { lines, logger } = capturedLogger();
    try {
      const worker = await startDeadlineWorker({ ...down.deps, logger });
      expect(lines.join('')).toContain(
        'Redis is unavailable: deadlines stay in PostgreSQL and reminders wait for Redis',
      );
      await worker.close();
    } finally {
      await down.close();
    }
  });

  it('when Redis answers its ready check and then stalls on the eviction policy check, then the worker starts anyway and checks the policy once Redis answers', async () => {
    const proxy = await startRedisProxy(new URL(TEST_REDIS_URL), { passing: true });
    // CONFIG GET maxmemory-policy, the check's first command, is held with its connection.
    proxy.holdOn('maxmemory-policy');
    const stalled = await createTestContext({ env: { REDIS_URL: proxy.url } });
    const { lines, logger } = capturedLogger();
    let worker: DeadlineWorker | null = null;
    try {
      // Before, the start waited for the check for as long as Redis stalled: here, for ever.
      worker = await startDeadlineWorker(
        { ...stalled.deps, logger },
        { registry: { ...processors, 'test.ok': async () => done() } },
      );
      expect(lines.join('')).toContain(
        'Redis did not answer the eviction policy check in time: starting, and checking when it answers',
      );

      // Redis answers: the held check goes through (the test Redis's policy is noeviction, so
      // the worker keeps running), and the worker delivers on the same connection.
      proxy.thaw();
      const id = await stalled.deps.uow((_trx, outbox) =>
        outbox.schedule({
          structureId,
          kind: 'test.ok',
          subjectType: 'follow_up',
          subjectId: crypto.randomUUID(),
          dueAt: NOW,
        }),
      );
      await waitForStatus(id, 'done');
      expect(lines.join('')).not.toContain('Deadline worker stopped');
    } finally {
      await worker?.close();
      await stalled.close();
      await proxy.close();
    }
  });
  it('when Redis is found to evict keys after the start (production), then the worker stops and tells its process', async () => {
    const proxy = await evictingRedisAfterStart();
    const evicting = await createTestContext({ env: { REDIS_URL: proxy.url } });
    const { lines, logger } = capturedLogger();
    const fatal: Error[] = [];
    let worker: DeadlineWorker | null = null;
    try {
      worker = await startDeadlineWorker(
        {
          ...evicting.deps,
          config: { ...evicting.deps.config, NODE_ENV: 'production' },
          logger,
        },
        { onFatal: (err) => fatal.push(err) },
      );
      expect(lines.join('')).toContain(
        'Redis did not answer the eviction policy check in time: starting, and checking when it answers',
      );
      expect(fatal).toEqual([]);

      proxy.thaw();
      await waitFor(async () => fatal.length > 0, 'the worker to tell its process');
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toBeInstanceOf(EvictionPolicyError);
      expect(fatal[0].message).toContain('Redis maxmemory-policy is "allkeys-lru"');
      expect(lines.join('')).toContain('Deadline worker stopped');
      await worker.close();
      expect(worker.worker.isRunning()).toBe(false);
    } finally {
      await worker?.close();
      await evicting.close();
      await proxy.close();
    }
  });

  // Each process starts through tsx, and holds its start for the policy check's 2 s bound.
  it.each([
    ['the worker process (npm run worker)', 'jobs/worker.ts', false],
    ['the web running the worker in-process (RUN_WORKER_IN_WEB)', 'server/index.ts', true],
  ])(
    'when Redis is found to evict keys after the start of %s (production), then the process shuts down and exits 1',
    async (_, script, web) => {
      const proxy = await evictingRedisAfterStart();
      const extra = {
        ...PRODUCTION_ENV,
        PUBLIC_URL: 'https://aller-vers.example',
        REDIS_URL: proxy.url,
        LOG_LEVEL: 'info',
      };
      const proc = start(
        script,
        [],
        web
          ? webEnv(await freePort(), ctx.prefix, { ...extra, RUN_WORKER_IN_WEB: 'true' })
          : testServicesEnv(ctx.prefix, extra),
      );
      try {
        await waitForOutput(
          proc,
          web ? 'aller-vers web started' : 'Deadline worker started',
          60_000,
        );
        expect(proc.child.exitCode).toBeNull();

        proxy.thaw();
        expect(await exitWithin(proc, 30_000)).toBe(1);
        expect(proc.output()).toContain('The deadline worker stopped; ending the process');
        expect(proc.output()).toContain('Shutdown complete');
      } finally {
        if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
        await proxy.close();
      }
    },
    90_000,
  );
});
