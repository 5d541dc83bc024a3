import type { Knex } from 'knex';
import { ConflictError } from '../../lib/errors';
import { auditRepository, type AuditInput } from './audit-repository';

/**
 * Runs a write whose 409 hands the caller the current object (`details.current`). Handing it out
 * is a read of person data, so it is audited; the write's transaction has rolled back by then, so
 * the event is written on its own, then the 409 goes on its way.
 */
export async function auditConflictRead<T, C>(
  db: Knex,
  write: () => Promise<T>,
  event: (current: C) => AuditInput,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const current =
      err instanceof ConflictError ? (err.details as { current?: C } | undefined)?.current : null;
    if (current) await auditRepository.record(db, event(current));
    throw err;
  }
}
