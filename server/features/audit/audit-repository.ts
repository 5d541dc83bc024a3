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
  /**
   * A person's ids (the file and the files merged into it): their events, their referrals' and
   * reports', and the list reads that showed any of them.
   */
  personIds?: string[];
  userId?: string;
  from?: Date;
  to?: Date;
}

/**
 * The subjects that are a person's data: an admin sees such events without subject or details.
 * A person's rights are audited under the person (`person_right.*`); the subject `right` is the
 * catalogue's (`right.create`, `right.update`), which the admin keeps, so it is not one of them.
 */
export const PERSON_SUBJECTS = ['person', 'referral', 'report', 'follow_up', 'contact', 'consent'];

/**
 * The reads of a list: their event has no subject of its own (the duplicates check may name the
 * file it was made for) and lists in `details.ids` the rows of its subject type the answer
 * held: persons for the person lists, referrals for `referral.list`, reports for `report.list`.
 * A person's events include the list reads whose ids name them, their referrals or their
 * reports. The partial GIN index `audit_events_list_ids` (migration 20261217100000) holds
 * `details->'ids'` of these actions only, written out there as they are here: the other events,
 * every single-record read among them, are not indexed by it (`audit-plan.test.ts` checks both
 * lists match, and that the person filter uses it).
 */
export const LIST_READ_ACTIONS = {
  person: ['person.search', 'person.duplicates', 'follow_up.list', 'backlog.items'],
  referral: ['referral.list'],
  report: ['report.list'],
} as const;

/** List reads of these actions whose ids (`details.ids`) hold any of `ids`: the GIN index's `?|`. */
const listedAny = (
  db: Knex | Knex.Transaction,
  actions: readonly string[],
  ids: string[] | Knex.Raw,
) =>
  db.raw("a.action = ANY(?::text[]) AND (a.details -> 'ids') \\?| ?::text[]", [[...actions], ids]);

function filtered(db: Knex | Knex.Transaction, f: AuditFilter) {
  const q = db('audit_events as a').where('a.structure_id', f.structureId);
  if (f.personIds) {
    const ids = f.personIds;
    // The person's referrals and reports as arrays, each computed once before the scan (an
    // InitPlan): every arm below is then an index condition, and the arms' bitmaps are OR-ed.
    // (An IN (subquery) arm is a filter only, which had PostgreSQL read every event of the
    // structure.)
    const idsOf = (table: 'referrals' | 'reports') =>
      db.raw('ARRAY(?)', [
        db(table).where('structure_id', f.structureId).whereIn('person_id', ids).select('id'),
      ]);
    q.andWhere((w) =>
      w
        .whereIn('a.subject_id', ids)
        .orWhere((r) =>
          r
            .where('a.subject_type', 'referral')
            .where('a.subject_id', db.raw('ANY(?)', [idsOf('referrals')])),
        )
        .orWhere((r) =>
          r
            .where('a.subject_type', 'report')
            .where('a.subject_id', db.raw('ANY(?)', [idsOf('reports')])),
        )
        .orWhere(listedAny(db, LIST_READ_ACTIONS.person, [...ids]))
        .orWhere(listedAny(db, LIST_READ_ACTIONS.referral, idsOf('referrals')))
        .orWhere(listedAny(db, LIST_READ_ACTIONS.report, idsOf('reports'))),
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
