import type { Knex } from 'knex';
import { ConflictError } from '../../lib/errors';
import type { AuditInput, AuditRepository, RequestContext } from './audit-repository';

export type { AuditEvent, AuditInput, RequestContext } from './audit-repository';

/**
 * The audit trail, as the other features write it: one event per access or change, inside the
 * caller's transaction when there is one. Rows stay in the audit repository; the container makes
 * one trail and hands it to every service that audits (`audit`).
 */
export function createAuditTrail(audits: Pick<AuditRepository, 'record' | 'recordMany'>) {
  return {
    /**
     * Writes an event, in the caller's transaction when there is one. Given the request context
     * of reads running inside `together`, an event outside a transaction waits for the others.
     */
    record(db: Knex | Knex.Transaction, e: AuditInput, ctx?: RequestContext): Promise<void> {
      const batch = ctx?.auditBatch;
      // Inside a transaction the event stays in it: it commits, or rolls back, with the write.
      if (!batch || (db as Knex.Transaction).isTransaction) return audits.record(db, e);
      batch.db ??= db;
      batch.events.push(e);
      return Promise.resolve();
    },

    /**
     * Runs reads that together make one answer (a person's page: the file, its timeline, its
     * rights) with a request context whose audit events, recorded outside a transaction, are
     * written in one INSERT when the reads end, before the caller answers: one commit instead
     * of one per read. Every event is still written, one row each, and whatever was read is
     * audited even if a later read failed; if writing the events fails, the caller fails and
     * shows nothing. A person one read found in the actor's scope is not checked again by the
     * others (`personsInScope`): one request, one actor.
     */
    async together<T>(ctx: RequestContext, reads: (ctx: RequestContext) => Promise<T>): Promise<T> {
      const batched: RequestContext = {
        ...ctx,
        auditBatch: { db: null, events: [] },
        personsInScope: new Set(),
      };
      try {
        return await reads(batched);
      } finally {
        const { db, events } = batched.auditBatch!;
        if (db && events.length) await audits.recordMany(db, events);
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
