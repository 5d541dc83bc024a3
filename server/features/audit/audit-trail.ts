import type { Knex } from 'knex';
import { auditRepository, type AuditInput } from './audit-repository';

export type { AuditEvent, AuditInput, RequestContext } from './audit-repository';

/**
 * The audit trail, as the other features write it: one event per access or change, inside the
 * caller's transaction when there is one. Rows stay in the audit repository.
 */
export const auditTrail = {
  record: (db: Knex | Knex.Transaction, e: AuditInput): Promise<void> =>
    auditRepository.record(db, e),
};
