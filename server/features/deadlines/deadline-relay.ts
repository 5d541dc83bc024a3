import type { Queue } from 'bullmq';
import type { Knex } from 'knex';
import {
  deadlineJobId,
  jobOptionsFor,
  type DeadlineJobData,
  type RetrySchedule,
} from '../../../jobs/queues';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { deadlineRepository, type Deadline } from './deadline-repository';

export interface RelayDeps {
  knex: Knex;
  queue: Queue<DeadlineJobData> | null;
  clock: Clock;
  logger: Logger;
  /** Retry schedule of the email kinds (EMAIL_RETRY_* settings); jobs/queues.ts has the default. */
  emailRetry?: RetrySchedule;
}

export interface DeadlineRelay {
  /** After commit: enqueue these deadlines now; on failure they stay for relayPending. */
  enqueue(ids: string[]): Promise<void>;
  /** Enqueues every pending deadline never enqueued (Redis was away at commit time). */
  relayPending(batch?: number): Promise<number>;
  /** Re-adds every pending deadline whose job is missing from Redis (flush, restart). */
  reconcile(batch?: number): Promise<{ checked: number; requeued: number; failed: number }>;
  /** Best effort removal of the jobs of cancelled deadlines (the processor ignores them anyway). */
  remove(ids: string[]): Promise<void>;
}

const ENQUEUE_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`Redis did not answer in ${ms} ms`)), ms).unref(),
    ),
  ]);
}

export function createDeadlineRelay({
  knex,
  queue,
  clock,
  logger,
  emailRetry,
}: RelayDeps): DeadlineRelay {
  const toJob = (d: Deadline) => ({
    name: d.kind,
    data: { deadlineId: d.id },
    opts: {
      jobId: deadlineJobId(d.id),
      delay: Math.max(0, d.dueAt.getTime() - clock.now().getTime()),
      ...jobOptionsFor(d.kind, emailRetry),
    },
  });

  async function add(deadlines: Deadline[]): Promise<void> {
    if (!queue || deadlines.length === 0) return;
    await withTimeout(queue.addBulk(deadlines.map(toJob)), ENQUEUE_TIMEOUT_MS);
    await deadlineRepository.markEnqueued(
      knex,
      deadlines.map((d) => d.id),
    );
  }

  return {
    async enqueue(ids) {
      if (!queue || ids.length === 0) return;
      try {
        await add(await deadlineRepository.pendingById(knex, ids));
      } catch (err) {
        logger.warn(
          { err: (err as Error).message, count: ids.length },
          'Deadlines kept in the outbox: Redis unavailable',
        );
      }
    },

    async relayPending(batch = 500) {
      if (!queue) return 0;
      let total = 0;
      for (;;) {
        const rows = await deadlineRepository.notYetEnqueued(knex, batch);
        if (rows.length === 0) return total;
        await add(rows);
        total += rows.length;
        if (rows.length < batch) return total;
      }
    },

    async reconcile(batch = 500) {
      if (!queue) return { checked: 0, requeued: 0, failed: 0 };
      let checked = 0;
      let requeued = 0;
      let failed = 0;
      let after: string | null = null;
      for (;;) {
        const rows = await deadlineRepository.pendingAfter(knex, after, batch);
        if (rows.length === 0) break;
        // Bounded: a queue whose Redis is away waits for it forever instead of failing.
        const jobs = await withTimeout(
          Promise.all(rows.map((d) => queue.getJob(deadlineJobId(d.id)))),
          ENQUEUE_TIMEOUT_MS,
        );
        const missing = rows.filter((_, i) => !jobs[i]);
        await add(missing);
        // BullMQ fails a job that stalled too often without calling the worker back: its
        // deadline would stay pending forever behind a failed job. Make it visible as failed.
        for (const [i, job] of jobs.entries()) {
          if (job?.finishedOn && job.failedReason) {
            await deadlineRepository.recordFailure(knex, rows[i].id, job.failedReason, true);
            failed++;
          }
        }
        checked += rows.length;
        requeued += missing.length;
        after = rows[rows.length - 1].id;
      }
      if (requeued > 0 || failed > 0)
        logger.info({ checked, requeued, failed }, 'Reconciler re-enqueued missing deadlines');
      return { checked, requeued, failed };
    },

    async remove(ids) {
      if (!queue) return;
      try {
        await withTimeout(
          Promise.all(ids.map((id) => queue.remove(deadlineJobId(id)))),
          ENQUEUE_TIMEOUT_MS,
        );
      } catch {
        /* the processor skips cancelled deadlines; removal only saves a no-op run */
      }
    },
  };
}
