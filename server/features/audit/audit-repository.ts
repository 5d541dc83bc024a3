import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import { pageWithTotal } from '../../lib/paging';

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
  /**
   * Set by the audit trail's `together` for the reads of one page: their events (outside a
   * transaction) wait here and are written in one INSERT when the reads end.
   */
  auditBatch?: { db: Knex | null; events: AuditInput[] };
  /**
   * Set by `together` too: the persons one of those reads found in the actor's scope. The
   * others of the same answer need not check it again (`persons.assertInScope`).
   */
  personsInScope?: Set<string>;
  /**
   * The one-time key of a creation: a page form's hidden field, or the API's Idempotency-Key
   * header on the routes that take it. The creation is made once per key
   * (`features/idempotency`).
   */
  idempotencyKey?: string;
}

const toRow = (e: AuditInput) => ({
  structure_id: e.structureId,
  actor_id: e.actor?.id ?? null,
  actor_role: e.actor?.role ?? null,
  action: e.action,
  subject_type: e.subjectType,
  subject_id: e.subjectId ?? null,
  ip: e.ip ?? null,
  details: e.details ? JSON.stringify(e.details) : null,
});

export function createAuditRepository() {
  const repo = {
    async record(db: Knex | Knex.Transaction, e: AuditInput): Promise<void> {
      await db('audit_events').insert(toRow(e));
    },

    /** Several events in one statement (one commit outside a transaction). */
    async recordMany(db: Knex | Knex.Transaction, events: AuditInput[]): Promise<void> {
      if (events.length) await db('audit_events').insert(events.map(toRow));
    },
  };
  return repo;
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;

/** An audit event as the audit pages and the right-of-access export read it. */
export interface AuditEvent {
  at: Date;
  action: string;
  subjectType: string;
  subjectId: string | null;
  actor: { id: string; name: string; role: string } | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditFilter {
  structureId: string;
  /** A person's ids (the file and the files merged into it): their events, their referrals' and reports'. */
  personIds?: string[];
  userId?: string;
  from?: Date;
  to?: Date;
}

/** The subjects that are a person's data: an admin sees such events without subject or details. */
export const PERSON_SUBJECTS = [
  'person',
  'referral',
  'report',
  'follow_up',
  'contact',
  'consent',
  'right',
];

function filtered(db: Knex | Knex.Transaction, f: AuditFilter) {
  const q = db('audit_events as a').where('a.structure_id', f.structureId);
  if (f.personIds) {
    const ids = f.personIds;
    q.andWhere((w) =>
      w
        .whereIn('a.subject_id', ids)
        .orWhere((r) =>
          r
            .where('a.subject_type', 'referral')
            .whereIn(
              'a.subject_id',
              db('referrals')
                .where('structure_id', f.structureId)
                .whereIn('person_id', ids)
                .select('id'),
            ),
        )
        .orWhere((r) =>
          r
            .where('a.subject_type', 'report')
            .whereIn(
              'a.subject_id',
              db('reports')
                .where('structure_id', f.structureId)
                .whereIn('person_id', ids)
                .select('id'),
            ),
        ),
    );
  }
  if (f.userId) q.andWhere('a.actor_id', f.userId);
  if (f.from) q.andWhere('a.created_at', '>=', f.from);
  if (f.to) q.andWhere('a.created_at', '<', f.to);
  return q;
}

export function createAuditReader() {
  const reader = {
    async list(
      db: Knex | Knex.Transaction,
      f: AuditFilter,
      page: number,
      pageSize: number,
    ): Promise<{ items: AuditEvent[]; total: number }> {
      const { rows, total } = await pageWithTotal(
        { page, pageSize },
        (limit, offset) =>
          filtered(db, f)
            .leftJoin('users as u', 'u.id', 'a.actor_id')
            // Events of one transaction share their moment: a stable order within it, for paging.
            .orderBy([
              { column: 'a.created_at', order: 'desc' },
              { column: 'a.action' },
              { column: 'a.subject_type' },
              { column: 'a.subject_id' },
              { column: 'a.actor_id' },
            ])
            .offset(offset)
            .limit(limit)
            .select(
              'a.created_at',
              'a.action',
              'a.subject_type',
              'a.subject_id',
              'a.actor_id',
              'a.actor_role',
              'u.name as actor_name',
              'a.ip',
              'a.details',
            ),
        () =>
          filtered(db, f)
            .count({ n: '*' })
            .first()
            .then((r) => r?.n ?? 0),
      );
      return {
        total,
        items: rows.map((r) => ({
          at: r.created_at,
          action: r.action,
          subjectType: r.subject_type,
          subjectId: r.subject_id,
          actor: r.actor_id
            ? { id: r.actor_id, name: r.actor_name ?? '', role: r.actor_role ?? '' }
            : null,
          ip: r.ip,
          details: r.details ?? null,
        })),
      };
    },
  };
  return reader;
}

export type AuditReader = ReturnType<typeof createAuditReader>;
