import type { Knex } from 'knex';
import { ConflictError } from '../../lib/errors';
import type { AuditInput, AuditRepository } from './audit-repository';

export type { AuditEvent, AuditInput, RequestContext } from './audit-repository';

/**
 * The audit trail, as the other features write it: one event per access or change, inside the
 * caller's transaction when there is one. Rows stay in the audit repository; the container makes
 * one trail and hands it to every service that audits (`audit`).
 */
export function createAuditTrail(audits: Pick<AuditRepository, 'record'>) {
  return {
    record: (db: Knex | Knex.Transaction, e: AuditInput): Promise<void> => audits.record(db, e),

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
