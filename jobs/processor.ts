import { UnrecoverableError } from 'bullmq';
import type { Knex } from 'knex';
import type { Deps } from '../server/container';
import type { DeadlineOutcome } from '../server/features/deadlines/deadline-outcome';
import type { Deadline } from '../server/features/deadlines/outbox';

/** What a processor decided: the outcome of the service that holds the rule. */
export type ProcessorResult = DeadlineOutcome;
export { done, skipped } from '../server/features/deadlines/deadline-outcome';

export interface ProcessorContext {
  /** Locked for this transaction and still pending. */
  deadline: Deadline;
  /** Every query of the processor goes through it: its effects and the deadline's new status commit together. */
  trx: Knex.Transaction;
  deps: Deps;
  now: Date;
}

/**
 * Handles one deadline kind. It may run twice for the same deadline (redelivery after a crash,
 * a reconciler race): its side effects must rest on a unique key so the second run changes nothing.
 */
export type Processor = (ctx: ProcessorContext) => Promise<ProcessorResult>;

export type ProcessorRegistry = Readonly<Record<string, Processor>>;

/** 'not_pending': already processed, cancelled or failed; this delivery is a no-op. */
export type ProcessOutcome = 'done' | 'skipped' | 'not_pending';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isDeadlineId = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

/**
 * The shell every deadline runs in: one transaction that locks the outbox row, hands it to the
 * processor of its kind and records the outcome. The row lock makes a concurrent second delivery
 * wait and then see the deadline is no longer pending; the side effect's unique key covers the rest.
 * What can never succeed throws UnrecoverableError, so BullMQ fails the job without retrying.
 */
export async function processDeadline(
  deps: Deps,
  registry: ProcessorRegistry,
  kind: string,
  deadlineId: unknown,
): Promise<ProcessOutcome> {
  const processor = Object.hasOwn(registry, kind) ? registry[kind] : undefined;
  if (!processor) throw new UnrecoverableError(`No processor for deadline kind "${kind}"`);
  if (!isDeadlineId(deadlineId))
    throw new UnrecoverableError('Job payload has no valid deadlineId');

  return deps.knex.transaction(async (trx) => {
    const deadline = await deps.repos.deadlines.lockForProcessing(trx, deadlineId);
    if (!deadline) throw new UnrecoverableError(`Deadline ${deadlineId} does not exist`);
    if (deadline.kind !== kind) {
      throw new UnrecoverableError(
        `Deadline ${deadlineId} is of kind "${deadline.kind}", job says "${kind}"`,
      );
    }
    if (deadline.status !== 'pending') return 'not_pending';
    const result = await processor({ deadline, trx, deps, now: deps.clock.now() });
    await deps.repos.deadlines.finish(
      trx,
      deadline.id,
      result.status,
      result.status === 'skipped' ? result.note : undefined,
    );
    return result.status;
  });
}
