import os from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Deps } from '../server/container';
import type { Logger } from '../server/lib/logger';
import { createRedis, tryConnect } from '../server/lib/redis';
import { TIMED_OUT, within } from '../server/lib/time-limit';
import {
  isDeadlineId,
  createDelivery,
  isUnrecoverable,
  type BatchProcessorRegistry,
  type ProcessOutcome,
  type ProcessorRegistry,
} from './processor';
import { DEADLINE_QUEUE, type DeadlineJobData } from './queues';
import { batchProcessors, processors } from './registry';

export interface DeadlineWorkerOptions {
  /** Jobs processed at once by this process (default WORKER_CONCURRENCY, 5). */
  concurrency?: number;
  /** How often this worker looks for jobs whose worker died (default WORKER_STALLED_INTERVAL_MS, 30 s). */
  stalledInterval?: number;
  /** How long a job stays locked without a heartbeat before it counts as stalled (default WORKER_LOCK_DURATION_MS, 30 s). */
  lockDuration?: number;
  /** The processors to dispatch to; tests swap in slow ones. Defaults to jobs/registry.ts. */
  registry?: ProcessorRegistry;
  /**
   * The kinds delivered in batches and their batch processors. Defaults to jobs/registry.ts's,
   * or to none when `registry` is swapped (its processors then run for every deadline).
   */
  batches?: BatchProcessorRegistry;
  /**
   * Called when the worker stops itself after its start (an evicting Redis policy found in
   * production once Redis answered): it has closed and delivers nothing more, so the process
   * running it should end, as it would have refused to start.
   */
  onFatal?: (err: Error) => void;
}

export interface DeadlineWorker {
  /** Stops the loops, lets active jobs finish within SHUTDOWN_TIMEOUT_MS, then closes Redis. */
  close(): Promise<void>;
  /** The BullMQ worker, for events in tests and diagnostics. */
  readonly worker: Worker<DeadlineJobData, ProcessOutcome>;
}

export class EvictionPolicyError extends Error {}

/**
 * Reads Redis' maxmemory-policy: CONFIG GET first, INFO as a fallback because managed Redis
 * often disables CONFIG. Null when neither answers.
 */
export async function readEvictionPolicy(
  redis: Pick<Redis, 'config' | 'info'>,
): Promise<string | null> {
  try {
    const res = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(res) && typeof res[1] === 'string') return res[1];
  } catch {
    /* CONFIG disabled or renamed: try INFO */
  }
  try {
    const info = await redis.info('memory');
    const m = /^maxmemory_policy:(\S+)/m.exec(info);
    if (m) return m[1];
  } catch {
    /* nothing more to try */
  }
  return null;
}

/**
 * Security item 29: an evicting Redis silently drops queued jobs. Production refuses to run the
 * worker on one; development and test only warn.
 */
export async function checkEvictionPolicy(
  redis: Pick<Redis, 'config' | 'info'>,
  env: 'development' | 'test' | 'production',
  logger: Pick<Logger, 'warn'>,
): Promise<void> {
  const policy = await readEvictionPolicy(redis);
  if (policy === null) {
    logger.warn(
      'Could not read Redis maxmemory-policy (CONFIG and INFO unavailable): make sure it is noeviction',
    );
    return;
  }
  if (policy === 'noeviction') return;
  const message = `Redis maxmemory-policy is "${policy}": Redis may evict queued deadlines; set it to noeviction`;
  if (env === 'production') throw new EvictionPolicyError(message);
  logger.warn(message);
}

/** How long the worker's start waits for Redis to answer the eviction policy check. */
const POLICY_CHECK_BOUND_MS = 2_000;

/**
 * BullMQ's own limits fail a job with an UnrecoverableError too: a job that stalled more than
 * `maxStalledCount` times is tagged (`deferredFailure`) and the next worker to take it fails it
 * ("job stalled more than allowable limit"), and so on for `maxStartedAttempts`. That says the
 * workers crashed, not that the deadline can never succeed: it stays pending for the reconciler.
 */
const isQueueLimit = (job: Job, err: Error) =>
  Boolean(job.deferredFailure) || /more than allowable limit$/.test(err.message);

/**
 * A loop that never overlaps itself and can be stopped and awaited. Stopping aborts `signal`,
 * which a long pass checks between its batches: the stop waits for the batch under way, not for
 * the rest of the pass.
 */
function every(ms: number, fn: (signal: AbortSignal) => Promise<void>) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const stop = new AbortController();
  const tick = () => {
    timer = null;
    if (stop.signal.aborted || running) return;
    running = fn(stop.signal).finally(() => {
      running = null;
      if (!stop.signal.aborted) timer = setTimeout(tick, ms).unref();
    });
  };
  return {
    /** Runs now (unless already running), then keeps the rhythm. */
    now() {
      if (timer) clearTimeout(timer);
      tick();
    },
    async stop() {
      stop.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/**
 * Starts the deadline worker in this process: a BullMQ Worker on its own Redis connection, the
 * relay loop (deadlines written while Redis was away) and the reconciler (jobs lost by a Redis
 * flush or restart). Redis down at start is not fatal: everything retries in the background.
 */
export async function startDeadlineWorker(
  deps: Deps,
  opts: DeadlineWorkerOptions = {},
): Promise<DeadlineWorker> {
  const { config, relay, knex } = deps;
  const logger = deps.logger.child({ component: 'deadline-worker' });
  const registry = opts.registry ?? processors;
  const deliver = createDelivery(
    deps,
    registry,
    opts.batches ?? (opts.registry ? {} : batchProcessors),
  );

  const connection = createRedis(config.REDIS_URL, 'worker');
  let redisDown = false;
  const reportRedisDown = (err: Error) => {
    if (redisDown) return;
    redisDown = true;
    logger.warn(
      { err: err.message },
      'Redis is unavailable: deadlines stay in PostgreSQL and reminders wait for Redis',
    );
  };
  connection.on('error', reportRedisDown);

  let policyChecked = false;
  // Settles when the policy has been read and found safe; rejects on an evicting policy in
  // production. Awaited at start within POLICY_CHECK_BOUND_MS: a Redis that answered the ready
  // check and then stalls would hold the start for as long as it stalls (this connection never
  // times out a command, as BullMQ requires). Past the bound the start goes on and the check's
  // answer, when it comes, is acted on as a later check's is (onReady).
  let policyCheck: Promise<void> | null = null;
  if (await tryConnect(connection)) {
    policyCheck = checkEvictionPolicy(connection, config.NODE_ENV, logger);
    try {
      policyChecked = (await within(policyCheck, POLICY_CHECK_BOUND_MS)) !== TIMED_OUT;
    } catch (err) {
      connection.disconnect();
      throw err;
    }
    if (!policyChecked)
      logger.warn(
        'Redis did not answer the eviction policy check in time: starting, and checking when it answers',
      );
  } else {
    reportRedisDown(new Error(`cannot connect to Redis`));
  }

  const worker = new Worker<DeadlineJobData, ProcessOutcome>(
    DEADLINE_QUEUE,
    (job: Job<DeadlineJobData>) => deliver(job.name, job.data?.deadlineId),
    {
      connection,
      prefix: config.QUEUE_PREFIX,
      concurrency: opts.concurrency ?? config.WORKER_CONCURRENCY,
      stalledInterval: opts.stalledInterval ?? config.WORKER_STALLED_INTERVAL_MS,
      lockDuration: opts.lockDuration ?? config.WORKER_LOCK_DURATION_MS,
      // Shown as processedBy on each job (bull-board): which process ran it.
      name: `${os.hostname()}:${process.pid}`,
    },
  );
  // Without a listener an 'error' event would crash the process; Redis outages surface here.
  worker.on('error', (err) => {
    if (/ECONNREFUSED|ETIMEDOUT|Connection is closed|ENOTFOUND|Socket timeout/.test(err.message))
      reportRedisDown(err);
    else logger.error({ err: err.message }, 'Deadline worker error');
  });

  // Every failed attempt is written on the deadline row, so admins see what is failing and why.
  // Only what can never succeed (UnrecoverableError) fails the deadline. A deadline whose job used
  // up its attempts on any other error stays pending: the reconciler re-arms it after
  // DEADLINE_RETRY_COOLDOWN_MS, until DEADLINE_GIVE_UP_HOURS past its due moment.
  worker.on('failed', (job, err) => {
    if (!job) return;
    const deadlineId = job.data?.deadlineId;
    const unrecoverable = isUnrecoverable(err) && !isQueueLimit(job, err);
    const exhausted = !unrecoverable && job.attemptsMade >= (job.opts.attempts ?? 1);
    const fields = {
      jobId: job.id,
      kind: job.name,
      attempt: job.attemptsMade,
      final: unrecoverable,
      err: err.message,
    };
    if (unrecoverable) logger.error(fields, 'Deadline failed for good: it can never succeed');
    else if (exhausted)
      logger.warn(
        fields,
        'Deadline used up its attempts; the reconciler re-arms it after a cool-down',
      );
    else logger.warn(fields, 'Deadline attempt failed; it will be retried');
    if (!isDeadlineId(deadlineId)) return;
    deps.repos.deadlines
      .recordFailure(knex, deadlineId, `${err.name}: ${err.message}`, unrecoverable)
      .catch((e: Error) =>
        logger.error({ err: e.message, deadlineId }, 'Could not record a deadline failure'),
      );
  });

  const relayLoop = every(config.RELAY_INTERVAL_MS, async (signal) => {
    try {
      const n = await relay.relayPending({ signal });
      if (n > 0) logger.info({ count: n }, 'Relayed deadlines kept in the outbox');
      // Redis answered (the relay reads the queue through it): an outage reported by one of
      // the worker's connections alone (its blocking one) is over too.
      if (redisDown && n > 0) onReady();
    } catch (err) {
      if (!redisDown) logger.warn({ err: (err as Error).message }, 'Outbox relay failed');
    }
  });
  const reconcileLoop = every(config.RECONCILE_INTERVAL_MS, async (signal) => {
    try {
      await relay.reconcile({ signal });
    } catch (err) {
      if (!redisDown) logger.warn({ err: (err as Error).message }, 'Reconciler failed');
    }
    // Closing: what follows is planned by the next pass, this worker's or another's.
    if (signal.aborted) return;
    try {
      // Every structure has its next daily digest planned (a new structure, a chain broken by
      // a failed digest); after the reconciler, which a starting worker needs first.
      await deps.services.digests.ensurePlanned();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'Could not plan the daily digests');
    }
    try {
      // And its nightly retention run, the same way.
      await deps.services.retention.ensurePlanned();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'Could not plan the nightly retention runs');
    }
    try {
      // And its hourly observation refresh.
      await deps.services.observation.ensurePlanned();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'Could not plan the observation refreshes');
    }
  });

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      connection.off('ready', onReady);
      // Take no new job from now on (close stops the fetching at once, then waits for the active
      // jobs), while the loops finish their tick: a job fetched in between would start late.
      const graceful = worker.close().then(
        () => true,
        () => false,
      );
      await Promise.all([relayLoop.stop(), reconcileLoop.stop()]);
      if ((await within(graceful, config.SHUTDOWN_TIMEOUT_MS)) !== true) {
        // The active jobs keep their lock until it expires, then another worker takes them over.
        logger.warn(
          { timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
          'Active deadlines did not finish in time; they will be redelivered after the stall interval',
        );
        await worker.close(true).catch(() => undefined);
      }
      connection.disconnect();
    })();
    return closing;
  };

  /**
   * A policy check that ends after the start: an evicting policy in production stops the worker,
   * and `onFatal` tells the process, which would otherwise stay up delivering nothing.
   */
  function stopOnEvictingPolicy(check: Promise<void>) {
    check.catch((err: Error) => {
      logger.error({ err: err.message }, 'Deadline worker stopped');
      void close();
      opts.onFatal?.(err);
    });
  }

  // Back after an outage: catch up at once instead of waiting for the next tick.
  function onReady() {
    if (redisDown) logger.info('Redis is back: relaying and reconciling deadlines');
    redisDown = false;
    if (!policyChecked) {
      policyChecked = true;
      stopOnEvictingPolicy(checkEvictionPolicy(connection, config.NODE_ENV, logger));
    }
    relayLoop.now();
    reconcileLoop.now();
  }
  connection.on('ready', onReady);
  if (policyCheck && !policyChecked) {
    policyChecked = true;
    stopOnEvictingPolicy(policyCheck);
  }

  relayLoop.now();
  reconcileLoop.now();
  return { close, worker };
}
