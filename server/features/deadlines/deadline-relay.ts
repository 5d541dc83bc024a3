import type { Job, Queue } from 'bullmq';
import type { Knex } from 'knex';
import {
  deadlineJobId,
  jobOptionsFor,
  type DeadlineJobData,
  type RetrySchedule,
} from '../../../jobs/queues';
import type { CircuitBreaker } from '../../lib/circuit-breaker';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { answerWithin } from '../../lib/time-limit';
import type { Deadline, DeadlineRepository } from './deadline-repository';

export interface RelayDeps {
  knex: Knex;
  deadlines: DeadlineRepository;
  queue: Queue<DeadlineJobData> | null;
  clock: Clock;
  logger: Logger;
  /** Retry schedule of the email kinds (EMAIL_RETRY_* settings); jobs/queues.ts has the default. */
  emailRetry?: RetrySchedule;
  /** What the reconciler does with a pending deadline whose job failed (DEADLINE_* settings). */
  rearm?: RearmPolicy;
  /**
   * The inline enqueue after commit (the web's): once Redis failed, requests leave their rows to
   * the relay loop instead of each waiting the enqueue bound, until Redis is back. The relay and
   * the reconciler always try, and their success closes it.
   */
  breaker?: CircuitBreaker;
}

interface RearmPolicy {
  /** Delay of the fresh job the reconciler adds for a deadline whose job failed. */
  cooldownMs: number;
  /**
   * Past its due moment (or its planning, when planned already past due) by this much, a deadline
   * whose job failed is marked failed instead.
   */
  giveUpAfterHours: number;
}

/** 5 minutes between rounds of attempts; give up 72 hours past the due moment (or planning). */
const DEFAULT_REARM: RearmPolicy = { cooldownMs: 300_000, giveUpAfterHours: 72 };

/**
 * How a pass walks the table: rows read per batch, and a stop signal (the worker closing),
 * checked between batches, which ends the pass after the batch under way: a pass over millions
 * of rows must not hold a shutdown. What is left waits for the next pass, this worker's or
 * another's.
 */
export interface PassOptions {
  batch?: number;
  signal?: AbortSignal;
}

export interface DeadlineRelay {
  /** After commit: enqueue these deadlines now; on failure they stay for relayPending. */
  enqueue(ids: string[]): Promise<void>;
  /** Enqueues every pending deadline never enqueued (Redis was away at commit time). */
  relayPending(opts?: PassOptions): Promise<number>;
  /**
   * Walks every pending deadline: re-adds the job missing from Redis (flush, restart); for a job
   * that finished as failed (attempts used up, stalled too often), removes it and adds a fresh
   * one after the cool-down (`rearmed`), or marks the deadline failed once it is past the give-up
   * age (`failed`).
   */
  reconcile(opts?: PassOptions): Promise<ReconcileResult>;
  /** Best effort removal of the jobs of cancelled deadlines (the processor ignores them anyway). */
  remove(ids: string[]): Promise<void>;
}

interface ReconcileResult {
  checked: number;
  requeued: number;
  rearmed: number;
  failed: number;
}

/** Deadlines per round trip to Redis (and per read of their rows): the relay's, an enqueue's. */
const RELAY_BATCH = 500;

/** How long an enqueue (or a removal) waits for Redis before it is left to the relay. */
export const ENQUEUE_TIMEOUT_MS = 2000;

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  answerWithin(p, ms, () => new Error(`Redis did not answer in ${ms} ms`));

export function createDeadlineRelay({
  knex,
  deadlines,
  queue,
  clock,
  logger,
  emailRetry,
  rearm = DEFAULT_REARM,
  breaker,
}: RelayDeps): DeadlineRelay {
  /**
   * A deadline's job, due at its moment (at least `minDelay` from now). The options are an object
   * so that `rows.map(toJob)` cannot pass map's index as a delay.
   */
  const toJob = (d: Deadline, { minDelay = 0 }: { minDelay?: number } = {}) => ({
    name: d.kind,
    data: { deadlineId: d.id },
    opts: {
      jobId: deadlineJobId(d.id),
      delay: Math.max(minDelay, d.dueAt.getTime() - clock.now().getTime()),
      ...jobOptionsFor(d.kind, emailRetry),
    },
  });
  const giveUpAfterMs = rearm.giveUpAfterHours * 3600_000;

  /**
   * A pending deadline whose job finished as failed: BullMQ will not run that job again, and
   * ignores an add with its id while it exists. Past the give-up age the deadline fails for good;
   * otherwise the failed job is replaced by a fresh one, due after the cool-down. The age counts
   * from the moment the deadline could first run: its due moment, or its planning when it was
   * written already past due (a follow-up planned in the past and its reminders, a re-plan), which
   * a first round of failed attempts must not put past the give-up age at once. created_at is the
   * database's clock, the app's own in production.
   */
  async function handleFailedJob(
    d: Deadline,
    job: Job<DeadlineJobData>,
  ): Promise<'rearmed' | 'failed' | null> {
    const reason = (job.failedReason ?? 'unknown failure').slice(0, 500);
    const plannedLate = d.createdAt.getTime() > d.dueAt.getTime();
    const age = clock.now().getTime() - (plannedLate ? d.createdAt : d.dueAt).getTime();
    if (age > giveUpAfterMs) {
      const since = plannedLate ? 'it was planned, past its due moment' : 'its due moment';
      const gaveUp = await deadlines.giveUp(
        knex,
        d.id,
        `Gave up: still failing more than ${rearm.giveUpAfterHours} h after ${since} (last failure: ${reason})`,
      );
      if (gaveUp)
        logger.error(
          { deadlineId: d.id, kind: d.kind, attempts: d.attempts + 1, err: reason },
          'Deadline failed for good: still failing past the give-up age',
        );
      return gaveUp ? 'failed' : null;
    }
    if (!(await deadlines.recordRearm(knex, d.id, `Re-armed after: ${reason}`))) return null;
    const fresh = toJob(d, { minDelay: rearm.cooldownMs });
    await withTimeout(
      (async () => {
        await queue!.remove(fresh.opts.jobId);
        await queue!.add(fresh.name, fresh.data, fresh.opts);
      })(),
      ENQUEUE_TIMEOUT_MS,
    );
    logger.warn(
      { deadlineId: d.id, kind: d.kind, attempts: d.attempts + 1, err: reason },
      'Deadline job had failed; re-armed after the cool-down',
    );
    return 'rearmed';
  }

  /** Adds the rows' jobs and marks the rows; returns the ids marked (see markEnqueued). */
  async function add(rows: Deadline[]): Promise<string[]> {
    if (!queue || rows.length === 0) return [];
    await withTimeout(queue.addBulk(rows.map((d) => toJob(d))), ENQUEUE_TIMEOUT_MS);
    breaker?.succeeded();
    return deadlines.markEnqueued(
      knex,
      rows.map((d) => d.id),
    );
  }

  return {
    async enqueue(ids) {
      if (!queue) return;
      // In batches, as the relay reads them: a settings change may move tens of thousands, whose
      // jobs would not fit in one bounded call to Redis.
      for (let i = 0; i < ids.length; i += RELAY_BATCH) {
        const rows = await deadlines.pendingById(knex, ids.slice(i, i + RELAY_BATCH));
        if (rows.length === 0) continue;
        // Redis failed a moment ago: the rows wait for the relay, the request does not wait.
        if (breaker && !breaker.allows()) return;
        try {
          await add(rows);
        } catch (err) {
          breaker?.failed();
          logger.warn(
            { err: (err as Error).message, count: ids.length - i },
            'Deadlines kept in the outbox: Redis unavailable',
          );
          return;
        }
      }
    },

    async relayPending({ batch = RELAY_BATCH, signal }: PassOptions = {}) {
      if (!queue) return 0;
      let total = 0;
      // Rows a job held when they were to be marked: their jobs are in Redis; this pass reads
      // past them (read again, they would be the oldest again, and the pass would spin on them
      // for as long as they are held); a later pass marks them if they are still pending.
      const held: string[] = [];
      for (;;) {
        if (signal?.aborted) return total;
        const rows = await deadlines.notYetEnqueued(knex, batch, held);
        if (rows.length === 0) return total;
        const marked = new Set(await add(rows));
        for (const d of rows) if (!marked.has(d.id)) held.push(d.id);
        total += marked.size;
        if (rows.length < batch) return total;
      }
    },

    async reconcile({ batch = RELAY_BATCH, signal }: PassOptions = {}) {
      if (!queue) return { checked: 0, requeued: 0, rearmed: 0, failed: 0 };
      let checked = 0;
      let requeued = 0;
      let rearmed = 0;
      let failed = 0;
      let after: string | null = null;
      for (;;) {
        if (signal?.aborted) break;
        const rows = await deadlines.pendingAfter(knex, after, batch);
        if (rows.length === 0) break;
        // Bounded: a queue whose Redis is away waits for it forever instead of failing.
        const jobs = await withTimeout(
          Promise.all(rows.map((d) => queue.getJob(deadlineJobId(d.id)))),
          ENQUEUE_TIMEOUT_MS,
        );
        const missing = rows.filter((_, i) => !jobs[i]);
        await add(missing);
        // A failed job of a pending deadline: its attempts ran out on an ordinary error (the
        // worker left the row pending), or BullMQ failed it for stalling too often (without
        // calling the worker back). Either way the deadline would wait forever behind it.
        for (const [i, job] of jobs.entries()) {
          if (!job?.finishedOn || !job.failedReason) continue;
          // One deadline that cannot be handled now (a lock, a timeout, a job another
          // reconciler just replaced) must not hold back every deadline after it.
          try {
            if ((await withTimeout(job.getState(), ENQUEUE_TIMEOUT_MS)) !== 'failed') continue;
            const outcome = await handleFailedJob(rows[i], job);
            if (outcome === 'rearmed') rearmed++;
            else if (outcome === 'failed') failed++;
          } catch (err) {
            logger.warn(
              { err: (err as Error).message, deadlineId: rows[i].id },
              'Reconciler could not re-arm a failed deadline; the next pass tries again',
            );
          }
        }
        checked += rows.length;
        requeued += missing.length;
        after = rows[rows.length - 1].id;
      }
      if (requeued > 0 || rearmed > 0 || failed > 0)
        logger.info(
          { checked, requeued, rearmed, failed },
          'Reconciler re-enqueued missing or failed deadlines',
        );
      return { checked, requeued, rearmed, failed };
    },

    async remove(ids) {
      for (let i = 0; i < ids.length; i += RELAY_BATCH) {
        if (!queue || (breaker && !breaker.allows())) return;
        try {
          await withTimeout(
            Promise.all(ids.slice(i, i + RELAY_BATCH).map((id) => queue.remove(deadlineJobId(id)))),
            ENQUEUE_TIMEOUT_MS,
          );
          breaker?.succeeded();
        } catch {
          // The processor skips cancelled deadlines; removal only saves a no-op run.
          breaker?.failed();
          return;
        }
      }
    },
  };
}
