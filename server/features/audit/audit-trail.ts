import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';
import { ConflictError } from '../../lib/errors';
import type { AuditInput, AuditRepository } from './audit-repository';

export type { AuditEvent, AuditInput, RequestContext } from './audit-repository';

/**
 * The audit trail, as the other features write it: one event per access or change, inside the
 * caller's transaction when there is one. Rows stay in the audit repository; the container makes
 * one trail and hands it to every service that audits (`audit`).
 */
export function createAuditTrail(audits: Pick<AuditRepository, 'record' | 'recordMany'>) {
  /** The events of the reads running inside `together`, and where to write them. */
  const batches = new AsyncLocalStorage<{ db: Knex | null; events: AuditInput[] }>();

  return {
    record(db: Knex | Knex.Transaction, e: AuditInput): Promise<void> {
      const batch = batches.getStore();
      // Inside a transaction the event stays in it: it commits, or rolls back, with the write.
      if (!batch || (db as Knex.Transaction).isTransaction) return audits.record(db, e);
      batch.db ??= db;
      batch.events.push(e);
      return Promise.resolve();
    },

    /**
     * Runs reads that together make one answer (a person's page: the file, its timeline, its
     * rights), writing the audit events they record outside a transaction in one INSERT when
     * they end, before the caller answers: one commit instead of one per read. Every event is
     * still written, one row each, and whatever was read is audited even if a later read
     * failed; if writing the events fails, the caller fails and shows nothing.
     */
    async together<T>(reads: () => Promise<T>): Promise<T> {
      const batch: { db: Knex | null; events: AuditInput[] } = { db: null, events: [] };
      try {
        return await batches.run(batch, reads);
      } finally {
        if (batch.db && batch.events.length) await audits.recordMany(batch.db, batch.events);
      }
    },

    /**
     * Runs a write whose 409 hands the caller the current object (`details.current`). Handing it
     * out is a read of person data, so it is audited; the write's transaction has rolled back by
     * then, so the event is written on its own, then the 409 goes on its way.
     */
    async conflictRead<T, C>(
      db: Knex,
      write: () => Promise<T>,
      event: (current: C) => AuditInput,
    ): Promise<T> {
      try {
        return await write();
      } catch (err) {
        const current =
          err instanceof ConflictError
            ? (err.details as { current?: C } | undefined)?.current
            : null;
        if (current) await audits.record(db, event(current));
        throw err;
      }
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
