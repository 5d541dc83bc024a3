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
 * Runs fn in one transaction with the outbox opened on it. What fn scheduled takes effect after
 * commit; a rollback leaves nothing in the outbox and sends nothing.
 */
export function createUnitOfWork<W>(knex: Knex, openOutbox: OutboxOpener<W>): UnitOfWork<W> {
  return async (fn) => {
    let session: OutboxSession<W> | undefined;
    const result = await knex.transaction(async (trx) => {
      session = openOutbox(trx);
      return fn(trx, session.writer);
    });
    await session?.afterCommit();
    return result;
  };
}
