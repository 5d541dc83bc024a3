import type { Knex } from 'knex';
import type { Cipher } from '../../lib/crypto';
import { idIn } from '../../lib/id-list';
import { pageWithTotal } from '../../lib/paging';
import {
  REPORT_ESCALATE,
  type ReportChannel,
  type ReportStatus,
  type TriageAction,
} from './report-schemas';
import { reportStatus, reportStatusWhere } from './report-status';

type Db = Knex | Knex.Transaction;

/** A report as staff read it, its free text decrypted. */
export interface Report {
  id: string;
  receiptNumber: string;
  channel: ReportChannel;
  authorName: string | null;
  location: string;
  who: string | null;
  concern: string;
  reporterContact: string | null;
  createdAt: Date;
  status: ReportStatus;
  triageDueAt: Date | null;
  triagedAt: Date | null;
  triagedByName: string | null;
  triageAction: TriageAction | null;
  personId: string | null;
  triageReason: string | null;
}

/** What a partner sees of the reports they made: the receipt, and whether it was handled. */
export interface SentReport {
  id: string;
  receiptNumber: string;
  createdAt: Date;
  handled: boolean;
}

/** A report locked for its triage or its escalation. */
export interface LockedReport {
  id: string;
  receiptNumber: string;
  channel: ReportChannel;
  location: string;
  who: string | null;
  concern: string;
  createdAt: Date;
  triagedAt: Date | null;
}

export interface NewReport {
  structureId: string;
  receiptNumber: string;
  channel: ReportChannel;
  authorId: string | null;
  location: string;
  who: string | null;
  concern: string;
  reporterContact: string | null;
  createdAt: Date;
}

export interface TriageWrite {
  at: Date;
  by: string;
  action: TriageAction;
  personId: string | null;
  reason: string | null;
}

interface ReportRow {
  id: string;
  receipt_number: string;
  channel: ReportChannel;
  author_name: string | null;
  location_enc: string;
  who_enc: string | null;
  concern_enc: string;
  reporter_contact_enc: string | null;
  created_at: Date;
  triage_due_at: Date | null;
  triaged_at: Date | null;
  triaged_by_name: string | null;
  triage_action: TriageAction | null;
  person_id: string | null;
  triage_reason_enc: string | null;
}

/** When the managers are told, while the report waits: its escalation deadline not cancelled. */
const TRIAGE_DUE_SQL = `CASE WHEN r.triaged_at IS NULL THEN (
  SELECT max(d.due_at) FROM deadlines d
   WHERE d.subject_type = 'report' AND d.subject_id = r.id AND d.kind = '${REPORT_ESCALATE}'
     AND d.status <> 'cancelled') END`;

/**
 * Reports of a structure. Every query is scoped by structure here (and by author for a
 * partner's own); free text is encrypted on the way in and decrypted on the way out.
 */
export function createReportRepository(cipher: Cipher) {
  const toReport = (r: ReportRow): Report => ({
    id: r.id,
    receiptNumber: r.receipt_number,
    channel: r.channel,
    authorName: r.author_name,
    location: cipher.decrypt(r.location_enc),
    who: cipher.decryptOptional(r.who_enc),
    concern: cipher.decrypt(r.concern_enc),
    reporterContact: cipher.decryptOptional(r.reporter_contact_enc),
    createdAt: new Date(r.created_at),
    status: reportStatus(r.triage_action),
    triageDueAt: r.triage_due_at ? new Date(r.triage_due_at) : null,
    triagedAt: r.triaged_at ? new Date(r.triaged_at) : null,
    triagedByName: r.triaged_by_name,
    triageAction: r.triage_action,
    personId: r.person_id,
    triageReason: cipher.decryptOptional(r.triage_reason_enc),
  });

  const reports = (db: Db, structureId: string) =>
    db('reports as r')
      .leftJoin('users as a', 'a.id', 'r.author_id')
      .leftJoin('users as t', 't.id', 'r.triaged_by')
      .where('r.structure_id', structureId)
      .select(
        'r.id',
        'r.receipt_number',
        'r.channel',
        'a.name as author_name',
        'r.location_enc',
        'r.who_enc',
        'r.concern_enc',
        'r.reporter_contact_enc',
        'r.created_at',
        db.raw(`${TRIAGE_DUE_SQL} AS triage_due_at`),
        'r.triaged_at',
        't.name as triaged_by_name',
        'r.triage_action',
        'r.person_id',
        'r.triage_reason_enc',
      );

  return {
    /** The structure a public form names, by its slug (not person data). */
    async structureBySlug(
      db: Db,
      slug: string,
    ): Promise<{ id: string; name: string; slug: string } | null> {
      const row = await db('structures').where({ slug }).first('id', 'name', 'slug');
      return row ?? null;
    },

    /** Writes a report; null when its receipt number is taken in the structure (draw again). */
    async insert(trx: Knex.Transaction, n: NewReport): Promise<string | null> {
      const rows: { id: string }[] = await trx('reports')
        .insert({
          structure_id: n.structureId,
          receipt_number: n.receiptNumber,
          channel: n.channel,
          author_id: n.authorId,
          location_enc: cipher.encrypt(n.location),
          who_enc: cipher.encryptOptional(n.who),
          concern_enc: cipher.encrypt(n.concern),
          reporter_contact_enc: cipher.encryptOptional(n.reporterContact),
          created_at: n.createdAt,
        })
        .onConflict(['structure_id', 'receipt_number'])
        .ignore()
        .returning('id');
      return rows[0]?.id ?? null;
    },

    async findById(db: Db, structureId: string, id: string): Promise<Report | null> {
      const row = await reports(db, structureId).where('r.id', id).first();
      return row ? toReport(row as ReportRow) : null;
    },

    /** Reports of the structure by id (a person's timeline). */
    async byIds(db: Db, structureId: string, ids: string[]): Promise<Report[]> {
      if (ids.length === 0) return [];
      const rows = await reports(db, structureId).whereIn('r.id', ids);
      return (rows as ReportRow[]).map(toReport);
    },

    /**
     * A page of the structure's reports: waiting ones oldest first (the queue), the others
     * newest first.
     */
    async list(
      db: Db,
      structureId: string,
      q: { status?: ReportStatus; page: number; pageSize: number },
    ): Promise<{ items: Report[]; total: number }> {
      const filter = (b: Knex.QueryBuilder) => {
        if (q.status) {
          const w = reportStatusWhere('r', q.status);
          b.whereRaw(w.sql, w.bindings);
        }
        return b;
      };
      const page = filter(reports(db, structureId));
      if (q.status === 'pending') page.orderBy('r.created_at').orderBy('r.id');
      else page.orderBy('r.created_at', 'desc').orderBy('r.id');
      const { rows, total } = await pageWithTotal(
        q,
        (limit, offset) => page.limit(limit).offset(offset),
        () =>
          filter(db('reports as r').where('r.structure_id', structureId))
            .count<{ n: string }[]>('* as n')
            .then(([r]) => r.n),
      );
      return { items: (rows as ReportRow[]).map(toReport), total };
    },

    /** The reports one partner user made, newest first: receipts only. */
    async sentBy(
      db: Db,
      structureId: string,
      authorId: string,
      q: { page: number; pageSize: number },
    ): Promise<{ items: SentReport[]; total: number }> {
      const where = { structure_id: structureId, author_id: authorId, channel: 'partner' };
      const { rows, total } = await pageWithTotal(
        q,
        (limit, offset) =>
          db('reports')
            .where(where)
            .orderBy('created_at', 'desc')
            .orderBy('id')
            .limit(limit)
            .offset(offset)
            .select('id', 'receipt_number', 'created_at', 'triaged_at'),
        () =>
          db('reports')
            .where(where)
            .count<{ n: string }[]>('* as n')
            .then(([r]) => r.n),
      );
      return {
        items: rows.map(
          (r: {
            id: string;
            receipt_number: string;
            created_at: Date;
            triaged_at: Date | null;
          }) => ({
            id: r.id,
            receiptNumber: r.receipt_number,
            createdAt: new Date(r.created_at),
            handled: r.triaged_at !== null,
          }),
        ),
        total,
      };
    },

    /** Locks a report for the caller's transaction (triage, escalation); null outside scope. */
    async lock(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<LockedReport | null> {
      const r = await trx('reports')
        .where({ structure_id: structureId, id })
        .forUpdate()
        .first(
          'id',
          'receipt_number',
          'channel',
          'location_enc',
          'who_enc',
          'concern_enc',
          'created_at',
          'triaged_at',
        );
      if (!r) return null;
      return {
        id: r.id,
        receiptNumber: r.receipt_number,
        channel: r.channel,
        location: cipher.decrypt(r.location_enc),
        who: cipher.decryptOptional(r.who_enc),
        concern: cipher.decrypt(r.concern_enc),
        createdAt: new Date(r.created_at),
        triagedAt: r.triaged_at ? new Date(r.triaged_at) : null,
      };
    },

    /** Writes the triage event on a waiting report; false when it was triaged already. */
    async triage(trx: Knex.Transaction, structureId: string, id: string, t: TriageWrite) {
      const n = await trx('reports')
        .where({ structure_id: structureId, id })
        .whereNull('triaged_at')
        .update({
          triaged_at: t.at,
          triaged_by: t.by,
          triage_action: t.action,
          person_id: t.personId,
          triage_reason_enc: cipher.encryptOptional(t.reason),
        });
      return n === 1;
    },

    /** The structure's reports' arrival moments, the anchors of their escalation. */
    async createdAt(db: Db, structureId: string, ids: string[]): Promise<Map<string, Date>> {
      if (ids.length === 0) return new Map();
      const rows: { id: string; created_at: Date }[] = await db('reports')
        .where('structure_id', structureId)
        .modify(idIn, 'id', ids)
        .whereNull('triaged_at')
        .select('id', 'created_at');
      return new Map(rows.map((r) => [r.id, new Date(r.created_at)]));
    },
  };
}

export type ReportRepository = ReturnType<typeof createReportRepository>;
