import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** One queue for every deadline and message; the job name is the deadline kind. */
export const DEADLINE_QUEUE = 'deadlines';

/** Payloads carry ids only, never personal data. */
export interface DeadlineJobData {
  deadlineId: string;
}

export const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 24 * 3600, count: 5000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};

/** Deterministic: the same deadline is never queued twice (no ':' and never all digits). */
export function deadlineJobId(deadlineId: string): string {
  return `deadline-${deadlineId}`;
}

export function createDeadlineQueue(connection: Redis, prefix: string): Queue<DeadlineJobData> {
  return new Queue<DeadlineJobData>(DEADLINE_QUEUE, { connection, prefix, defaultJobOptions });
}
