import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_EMAIL_WITHDRAWN,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
} from '../server/features/referrals/referral-schemas';
import { USER_PASSWORD_EMAIL } from '../server/features/users/password-links';
import { DIGEST_EMAIL } from '../server/features/deadlines/rule-kinds';
import {
  PARTNER_EMAIL_CHANGED,
  PARTNER_EMAIL_CONFIRM,
} from '../server/features/partners/partner-email-changes';

/** One queue for every deadline and message; the job name is the deadline kind. */
export const DEADLINE_QUEUE = 'deadlines';

/** Payloads carry ids only, never personal data. */
export interface DeadlineJobData {
  deadlineId: string;
}

/**
 * The schedule of the non-email kinds: 5 attempts, exponential from 10 s (retries after 10, 20,
 * 40 and 80 s: the last one about 2.5 minutes after the first), so a PostgreSQL failover of 30 to
 * 60 s is ridden out inside the job. A longer outage uses up the attempts without failing the
 * deadline: the reconciler re-arms it (DEADLINE_RETRY_COOLDOWN_MS) until it gives up
 * (DEADLINE_GIVE_UP_HOURS past its due moment).
 */
const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { age: 24 * 3600, count: 5000 },
  removeOnFail: { age: 14 * 24 * 3600 },
};

/** How often and how patiently an email job is retried: exponential from `delayMs`. */
export interface RetrySchedule {
  attempts: number;
  delayMs: number;
}

/** 10 attempts from 30 s, doubling: the last one about 4 h 15 min after the first. */
export const DEFAULT_EMAIL_RETRY: RetrySchedule = { attempts: 10, delayMs: 30_000 };

/**
 * The deadline kinds that send an email. An SMTP outage is the common failure of these and
 * lasts minutes to hours, so they get a longer schedule than the default one (5 attempts over
 * about 2.5 minutes) before the reconciler's slower re-arming takes over.
 */
const EMAIL_DEADLINE_KINDS: readonly string[] = [
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_WITHDRAWN,
  USER_PASSWORD_EMAIL,
  DIGEST_EMAIL,
  PARTNER_EMAIL_CONFIRM,
  PARTNER_EMAIL_CHANGED,
];

/** The per-kind options of a deadline's job, on top of the queue's defaults. */
export function jobOptionsFor(
  kind: string,
  email: RetrySchedule = DEFAULT_EMAIL_RETRY,
): Pick<JobsOptions, 'attempts' | 'backoff'> {
  if (!EMAIL_DEADLINE_KINDS.includes(kind)) return {};
  return { attempts: email.attempts, backoff: { type: 'exponential', delay: email.delayMs } };
}

/** Deterministic: the same deadline is never queued twice (no ':' and never all digits). */
export function deadlineJobId(deadlineId: string): string {
  return `deadline-${deadlineId}`;
}

/**
 * The producers' queue, on their connection (server/lib/redis.ts), whose commands time out. It
 * skips BullMQ's version check: that check is one INFO sent once, when the queue first connects,
 * and a timeout there would leave the queue failing every call for the life of the process. The
 * worker's own connection, which does not time out, checks the version (BullMQ's Worker) and the
 * eviction policy (jobs/runtime.ts).
 */
export function createDeadlineQueue(connection: Redis, prefix: string): Queue<DeadlineJobData> {
  return new Queue<DeadlineJobData>(DEADLINE_QUEUE, {
    connection,
    prefix,
    defaultJobOptions,
    skipVersionCheck: true,
  });
}
