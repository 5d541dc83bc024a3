import type { Knex } from 'knex';
import type { OutboxSession, UnitOfWork as GenericUnitOfWork } from '../../lib/unit-of-work';
import type { DeadlineRelay } from './deadline-relay';
import type {
  Deadline,
  DeadlineMove,
  DeadlineRepository,
  NewDeadline,
} from './deadline-repository';

export type { Deadline, DeadlineMove, NewDeadline, StructureRunKind } from './deadline-repository';

/** A structure's recurring runs (digest, retention): planned once per moment, each the next. */
export function createStructureRuns(deadlines: DeadlineRepository) {
  return {
    planOnce: deadlines.planStructureRunOnce,
    structuresWithout: deadlines.structuresWithoutRun,
  };
}

export type StructureRuns = ReturnType<typeof createStructureRuns>;

/** What a transaction may do with the outbox: its effects reach BullMQ only after commit. */
export interface OutboxWriter {
  schedule(d: NewDeadline): Promise<string>;
  /** Several deadlines written together (one statement); their ids in the order given. */
  scheduleAll(ds: readonly NewDeadline[]): Promise<string[]>;
  cancel(subjectType: string, subjectId: string, kinds?: string[]): Promise<string[]>;
  /** Cancels deadlines read by pending() in this transaction (held since); the ids cancelled. */
  cancelHeld(ids: readonly string[]): Promise<string[]>;
  /** Cancels these deadlines if still pending, skipping any a job holds (as cancel does). */
  cancelPending(ids: readonly string[]): Promise<string[]>;
  /** The pending deadlines of these subjects of these kinds, held until commit (see cancel). */
  pending(
    subjectType: string,
    subjectIds: readonly string[],
    kinds: readonly string[],
  ): Promise<{ id: string; subjectId: string; kind: string; dueAt: Date }[]>;
  /**
   * Whether a deadline of these kinds about `d`'s subject, due at `d`'s moment or in the
   * `withinMs` before it, still waits for its first run (queued, or running now): what a
   * deadline that must come after them waits for.
   */
  firstRunDueWith(d: Deadline, kinds: readonly string[], withinMs: number): Promise<boolean>;
  /**
   * Moves a pending deadline to a new moment: the row is cancelled and a copy due at `dueAt`
   * takes its place (a job already in Redis keeps its delay, so the row is replaced rather than
   * edited). Returns the new row's id, or null when the row was no longer pending.
   */
  reschedule(id: string, dueAt: Date): Promise<string | null>;
  /**
   * Moves many pending deadlines at once, as `reschedule` moves one, in a few statements whatever
   * their number; a row a job is processing is left where it is. Returns the ids of the rows
   * cancelled and of those that took their place.
   */
  rescheduleAll(
    moves: readonly DeadlineMove[],
  ): Promise<{ cancelled: string[]; created: string[] }>;
}

/** The application's unit of work: one transaction and the outbox writer bound to it. */
export type UnitOfWork = GenericUnitOfWork<OutboxWriter>;

/** Writes the outbox inside a transaction; the relay enqueues the rows later. */
export type OutboxIn = (trx: Knex.Transaction) => OutboxWriter;

/**
 * The one way to write the outbox inside a transaction, built once by the container on its
 * deadline repository and handed down (`Deps.outboxIn`). Used as is by code already inside a
 * transaction it does not own (jobs, the seed): the relay enqueues the rows later.
 */
export function createOutboxIn(deadlines: DeadlineRepository): OutboxIn {
  return (trx) => ({
    schedule: (d) => deadlines.insert(trx, d),
    scheduleAll: (ds) => deadlines.insertAll(trx, ds),
    cancel: (subjectType, subjectId, kinds) =>
      deadlines.cancelPending(trx, subjectType, subjectId, kinds),
    cancelHeld: (ids) => deadlines.cancelHeld(trx, ids),
    cancelPending: (ids) => deadlines.cancelPendingByIds(trx, ids),
    pending: (subjectType, subjectIds, kinds) =>
      deadlines.pendingOfSubjects(trx, subjectType, subjectIds, kinds),
    firstRunDueWith: (d, kinds, withinMs) => deadlines.hasFirstRunDueWith(trx, d, kinds, withinMs),
    async reschedule(id, dueAt) {
      const { created } = await deadlines.reschedule(trx, [{ id, dueAt }]);
      return created[0] ?? null;
    },
    rescheduleAll: (moves) => deadlines.reschedule(trx, moves),
  });
}

/**
 * The outbox the unit of work opens on each transaction (given to it by the container): rows
 * written through `outboxIn`, then, once committed, new jobs enqueued and cancelled ones removed.
 */
export function createOutbox(outboxIn: OutboxIn, relay: Pick<DeadlineRelay, 'enqueue' | 'remove'>) {
  return (trx: Knex.Transaction): OutboxSession<OutboxWriter> => {
    const rows = outboxIn(trx);
    const scheduled: string[] = [];
    const cancelled: string[] = [];
    return {
      writer: {
        async schedule(d) {
          const id = await rows.schedule(d);
          scheduled.push(id);
          return id;
        },
        async scheduleAll(ds) {
          const ids = await rows.scheduleAll(ds);
          scheduled.push(...ids);
          return ids;
        },
        async cancel(subjectType, subjectId, kinds) {
          const ids = await rows.cancel(subjectType, subjectId, kinds);
          cancelled.push(...ids);
          return ids;
        },
        async cancelHeld(ids) {
          const done = await rows.cancelHeld(ids);
          cancelled.push(...done);
          return done;
        },
        async cancelPending(ids) {
          const done = await rows.cancelPending(ids);
          cancelled.push(...done);
          return done;
        },
        pending: (subjectType, subjectIds, kinds) => rows.pending(subjectType, subjectIds, kinds),
        firstRunDueWith: (d, kinds, withinMs) => rows.firstRunDueWith(d, kinds, withinMs),
        async reschedule(id, dueAt) {
          const fresh = await rows.reschedule(id, dueAt);
          if (fresh) {
            cancelled.push(id);
            scheduled.push(fresh);
          }
          return fresh;
        },
        async rescheduleAll(moves) {
          const moved = await rows.rescheduleAll(moves);
          cancelled.push(...moved.cancelled);
          scheduled.push(...moved.created);
          return moved;
        },
      },
      async afterCommit() {
        if (cancelled.length) await relay.remove(cancelled);
        if (scheduled.length) await relay.enqueue(scheduled);
      },
    };
  };
}
