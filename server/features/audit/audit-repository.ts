import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';

export interface AuditInput {
  actor: Actor | null;
  structureId: string | null;
  action: string;
  subjectType: string;
  subjectId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** Where a request came from, carried down to the audit trail. */
export interface RequestContext {
  ip: string | null;
}

export function createAuditRepository() {
  const repo = {
    async record(db: Knex | Knex.Transaction, e: AuditInput): Promise<void> {
      await db('audit_events').insert({
        structure_id: e.structureId,
        actor_id: e.actor?.id ?? null,
        actor_role: e.actor?.role ?? null,
        action: e.action,
        subject_type: e.subjectType,
        subject_id: e.subjectId ?? null,
        ip: e.ip ?? null,
        details: e.details ? JSON.stringify(e.details) : null,
      });
    },
  };
  return repo;
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
