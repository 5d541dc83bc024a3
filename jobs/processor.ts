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

export const isUnrecoverable = (err: Error) =>
  err instanceof UnrecoverableError || err.name === 'UnrecoverableError';

/** What a batch processor gets: due deadlines of one kind and one structure, all locked and pending. */
export interface BatchContext {
  /** Locked for this transaction and still pending; the first is the job's own. */
  deadlines: Deadline[];
  trx: Knex.Transaction;
  deps: Deps;
  now: Date;
}

/**
 * Handles a batch of deadlines of one kind, set-based (one query per table for the whole
 * batch, not one per deadline), with the same rule as the kind's one-deadline processor. Answers
 * one outcome per deadline, in the batch's order. The same unique keys guard its side effects.
 */
export type BatchProcessor = (ctx: BatchContext) => Promise<ProcessorResult[]>;

export type BatchProcessorRegistry = Readonly<Record<string, BatchProcessor>>;

/**
 * The most deadlines one transaction delivers: the job's own and the due ones it claims. Each
 * statement of a batch has a fixed cost (planning, the claim's index scan, the round trip, the
 * commit) on top of its cost per row: measured on the bench database, a batch of 500 costs
 * PostgreSQL about a quarter less per deadline than five of 100 and the worker half as much, and
 * it still commits in a second or two on a loaded machine (far below the job lock's 30 s).
 */
export const BATCH_SIZE = 500;

/**
 * The shell every deadline runs in. A job carries one deadline id; its kind's processor runs in
 * one transaction that locks the outbox row, hands it to the processor and records the outcome.
 * The row lock makes a concurrent second delivery wait and then see the deadline is no longer
 * pending; the side effect's unique key covers the rest. What can never succeed throws
 * UnrecoverableError, so BullMQ fails the job without retrying.
 *
 * A kind with a batch processor (`batches`, jobs/registry.ts) is delivered in batches: the job
 * first reads its row without a lock (done by an earlier batch: nothing to do, no transaction),
 * then its transaction also claims up to BATCH_SIZE − 1 other due deadlines of its kind and
 * structure (`FOR UPDATE SKIP LOCKED`) and delivers them all with one commit. Each claimed row
 * keeps its own job, which later finds it done; a batch that dies with its worker only unlocks
 * its rows, and their jobs deliver them. A deadline that has failed once is delivered alone.
 */
export function processDeadline(
  deps: Deps,
  registry: ProcessorRegistry,
  kind: string,
  deadlineId: unknown,
  batches: BatchProcessorRegistry = {},
): Promise<ProcessOutcome> {
  return createDelivery(deps, registry, batches)(kind, deadlineId);
}

/** Ids a worker's own batches delivered, remembered a while (see createDelivery). */
const REMEMBERED = 50_000;

/**
 * The worker's `processDeadline`, built once per worker: the same delivery, with two savings
 * for the jobs of deadlines a batch already delivered (most jobs of a batched kind when many
 * fall due at once). The ids this worker's batches committed are remembered with their kind
 * (done and skipped are final states: no path sets them pending again), so their jobs end
 * without a query; the others' first looks, when several jobs start at the same moment, are
 * read in one query.
 */
export function createDelivery(
  deps: Deps,
  registry: ProcessorRegistry,
  batches: BatchProcessorRegistry = {},
): (kind: string, deadlineId: unknown) => Promise<ProcessOutcome> {
  const delivered = new Map<string, string>();
  const remember = (ds: Deadline[]) => {
    for (const d of ds) delivered.set(d.id, d.kind);
    for (const id of delivered.keys()) {
      if (delivered.size <= REMEMBERED) break;
      delivered.delete(id);
    }
  };
  const peek = batchedPeek(deps);

  return async (kind, deadlineId) => {
    const processor = Object.hasOwn(registry, kind) ? registry[kind] : undefined;
    if (!processor) throw new UnrecoverableError(`No processor for deadline kind "${kind}"`);
    if (!isDeadlineId(deadlineId))
      throw new UnrecoverableError('Job payload has no valid deadlineId');

    const batch = Object.hasOwn(batches, kind) ? batches[kind] : undefined;
    if (batch) {
      if (delivered.get(deadlineId) === kind) return 'not_pending';
      const seen = await peek(deadlineId);
      if (!seen) throw new UnrecoverableError(`Deadline ${deadlineId} does not exist`);
      if (seen.kind !== kind) throw kindMismatch(deadlineId, seen.kind, kind);
      if (seen.status !== 'pending') return 'not_pending';
      if (seen.attempts === 0) {
        const outcome = await deliverBatch(deps, processor, batch, deadlineId, remember);
        if (outcome) return outcome;
      }
    }
    return deliverOne(deps, processor, kind, deadlineId);
  };
}

type Peek = Pick<Deadline, 'kind' | 'status' | 'attempts'>;

/** First looks asked for in the same moment (jobs starting side by side), read in one query. */
function batchedPeek(deps: Deps): (id: string) => Promise<Peek | null> {
  let waiting: Map<string, ((p: Peek | null) => void)[]> | null = null;
  let failures: ((err: Error) => void)[] = [];
  const flush = async () => {
    const asked = waiting!;
    const fail = failures;
    waiting = null;
    failures = [];
    try {
      const found = await deps.repos.deadlines.peekMany(deps.knex, [...asked.keys()]);
      for (const [id, resolvers] of asked) for (const r of resolvers) r(found.get(id) ?? null);
    } catch (err) {
      for (const f of fail) f(err as Error);
    }
  };
  return (id) =>
    new Promise((resolve, reject) => {
      if (!waiting) {
        waiting = new Map();
        setImmediate(() => void flush());
      }
      waiting.set(id, [...(waiting.get(id) ?? []), resolve]);
      failures.push(reject);
    });
}

const kindMismatch = (id: string, actual: string, job: string) =>
  new UnrecoverableError(`Deadline ${id} is of kind "${actual}", job says "${job}"`);

/** One deadline, one transaction. */
function deliverOne(
  deps: Deps,
  processor: Processor,
  kind: string,
  deadlineId: string,
): Promise<ProcessOutcome> {
  return deps.knex.transaction(async (trx) => {
    const deadline = await deps.repos.deadlines.lockForProcessing(trx, deadlineId);
    if (!deadline) throw new UnrecoverableError(`Deadline ${deadlineId} does not exist`);
    if (deadline.kind !== kind) throw kindMismatch(deadlineId, deadline.kind, kind);
    if (deadline.status !== 'pending') return 'not_pending';
    const now = deps.clock.now();
    // However late it runs, a message to a partner waits for working hours (the batched kinds
    // are in-app notices to staff, which need no such check).
    const result =
      (await deps.services.messageHours.holdUntilWorkingHours(trx, deadline, now)) ??
      (await processor({ deadline, trx, deps, now }));
    await deps.repos.deadlines.finish(
      trx,
      deadline.id,
      result.status,
      result.status === 'skipped' ? result.note : undefined,
    );
    return result.status;
  });
}

/**
 * The job's deadline and the due ones it claims, in one transaction. Null when the deadline is
 * to be delivered alone after all (it failed once meanwhile). When the batch fails, it is rolled
 * back and delivered one by one: each other deadline in a transaction of its own, its failure
 * counted on its row (so it is delivered alone from then on, by its own job, on that job's retry
 * schedule) without failing the rest; then the job's own, whose failure fails the job as usual.
 */
async function deliverBatch(
  deps: Deps,
  processor: Processor,
  batch: BatchProcessor,
  deadlineId: string,
  remember: (delivered: Deadline[]) => void,
): Promise<ProcessOutcome | null> {
  const repo = deps.repos.deadlines;
  let claimed: Deadline[] = [];
  try {
    const outcome = await deps.knex.transaction(async (trx) => {
      const own = await repo.lockForProcessing(trx, deadlineId);
      if (!own || own.attempts > 0) return null;
      if (own.status !== 'pending') return 'not_pending';
      const now = deps.clock.now();
      claimed = [own, ...(await repo.claimDue(trx, own, now, BATCH_SIZE - 1))];
      const outcomes = await batch({ deadlines: claimed, trx, deps, now });
      if (outcomes.length !== claimed.length)
        throw new Error(
          `A batch processor answered ${outcomes.length} outcomes for ${claimed.length} deadlines`,
        );
      await repo.finishMany(
        trx,
        claimed.map((d, i) => {
          const o = outcomes[i];
          return { id: d.id, status: o.status, note: o.status === 'skipped' ? o.note : null };
        }),
      );
      return outcomes[0].status;
    });
    // Committed: the jobs of the others need not read their rows.
    if (claimed.length > 1) remember(claimed.slice(1));
    return outcome;
  } catch (err) {
    if (claimed.length <= 1) throw err;
    const kind = claimed[0].kind;
    deps.logger.warn(
      { kind, count: claimed.length, err: (err as Error).message },
      'A batch of deadlines failed; delivering them one by one',
    );
    for (const d of claimed.slice(1)) {
      try {
        await deliverOne(deps, processor, kind, d.id);
      } catch (e) {
        const error = e as Error;
        await repo
          .recordFailure(deps.knex, d.id, `${error.name}: ${error.message}`, isUnrecoverable(error))
          .catch((recordErr: Error) =>
            deps.logger.error(
              { err: recordErr.message, deadlineId: d.id },
              'Could not record a deadline failure',
            ),
          );
      }
    }
    return deliverOne(deps, processor, kind, deadlineId);
  }
}
