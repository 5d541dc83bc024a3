import type { Knex } from 'knex';

/** An outbox opened on one transaction: what the work may write, and what follows the commit. */
export interface OutboxSession<W> {
  writer: W;
  afterCommit(): Promise<void>;
}

/** Opens the outbox on a transaction; the container injects the deadlines feature's one. */
type OutboxOpener<W> = (trx: Knex.Transaction) => OutboxSession<W>;

export type UnitOfWork<W> = <T>(fn: (trx: Knex.Transaction, outbox: W) => Promise<T>) => Promise<T>;

/**
 * PostgreSQL's answers that say "this transaction lost a race, run it again": a deadlock it
 * broke by aborting this side (40P01), a serialization failure (40001).
 */
const RETRYABLE = new Set(['40P01', '40001']);
/** Attempts in all before the error goes to the caller. */
export const UOW_ATTEMPTS = 3;

const retryable = (err: unknown) =>
  typeof err === 'object' && err !== null && RETRYABLE.has((err as { code?: string }).code ?? '');

/**
 * Runs fn in one transaction with the outbox opened on it. What fn scheduled takes effect after
 * commit; a rollback leaves nothing in the outbox and sends nothing.
 *
 * A transaction PostgreSQL aborted to break a deadlock (or a serialization failure) is run again
 * from the start, up to UOW_ATTEMPTS times in all, after a short random pause: two writes that
 * take the same rows in opposite orders (a manager's reassign against a worker's contact on one
 * of the files, both moving the backlog's counters) then both succeed, where one would have
 * answered 500. fn must keep its effects in the transaction and the outbox, as every unit of
 * work does: a rolled-back attempt leaves nothing behind.
 */
export function createUnitOfWork<W>(knex: Knex, openOutbox: OutboxOpener<W>): UnitOfWork<W> {
  return async (fn) => {
    for (let attempt = 1; ; attempt++) {
      let session: OutboxSession<W> | undefined;
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await knex.transaction(async (trx) => {
          session = openOutbox(trx);
          return fn(trx, session.writer);
        });
      } catch (err) {
        if (attempt >= UOW_ATTEMPTS || !retryable(err)) throw err;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
        continue;
      }
      // Committed: what follows the commit runs once, outside the retry.
      await session?.afterCommit();
      return result;
    }
  };
}
