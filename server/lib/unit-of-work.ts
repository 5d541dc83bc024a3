import type { Knex } from 'knex';
import { deadlineRepository, type NewDeadline } from '../features/deadlines/deadline-repository';
import type { DeadlineRelay } from '../features/deadlines/deadline-relay';

/** What a transaction may do with the outbox: its effects reach BullMQ only after commit. */
export interface OutboxWriter {
  schedule(d: NewDeadline): Promise<string>;
  cancel(subjectType: string, subjectId: string, kinds?: string[]): Promise<string[]>;
  /**
   * Moves a pending deadline to a new moment: the row is cancelled and a copy due at `dueAt`
   * takes its place (a job already in Redis keeps its delay, so the row is replaced rather than
   * edited). Returns the new row's id, or null when the row was no longer pending.
   */
  reschedule(id: string, dueAt: Date): Promise<string | null>;
}

export type UnitOfWork = <T>(
  fn: (trx: Knex.Transaction, outbox: OutboxWriter) => Promise<T>,
) => Promise<T>;

/** An outbox writer for code already inside a transaction (jobs): the relay enqueues later. */
export function outboxIn(trx: Knex.Transaction): OutboxWriter {
  return {
    schedule: (d) => deadlineRepository.insert(trx, d),
    cancel: (subjectType, subjectId, kinds) =>
      deadlineRepository.cancelPending(trx, subjectType, subjectId, kinds),
    async reschedule(id, dueAt) {
      const old = await deadlineRepository.cancelPendingById(trx, id);
      return old ? deadlineRepository.insert(trx, { ...old, dueAt }) : null;
    },
  };
}

/**
 * Runs fn in one transaction. Deadlines scheduled inside are enqueued after commit; a rollback
 * leaves nothing in the outbox and sends nothing.
 */
export function createUnitOfWork(knex: Knex, relay: DeadlineRelay): UnitOfWork {
  return async (fn) => {
    const scheduled: string[] = [];
    const cancelled: string[] = [];
    const result = await knex.transaction(async (trx) =>
      fn(trx, {
        async schedule(d) {
          const id = await deadlineRepository.insert(trx, d);
          scheduled.push(id);
          return id;
        },
        async cancel(subjectType, subjectId, kinds) {
          const ids = await deadlineRepository.cancelPending(trx, subjectType, subjectId, kinds);
          cancelled.push(...ids);
          return ids;
        },
        async reschedule(id, dueAt) {
          const old = await deadlineRepository.cancelPendingById(trx, id);
          if (!old) return null;
          cancelled.push(old.id);
          const fresh = await deadlineRepository.insert(trx, { ...old, dueAt });
          scheduled.push(fresh);
          return fresh;
        },
      }),
    );
    if (cancelled.length) await relay.remove(cancelled);
    if (scheduled.length) await relay.enqueue(scheduled);
    return result;
  };
}
