import type { Knex } from 'knex';
import type { Cipher } from '../../lib/crypto';

type Db = Knex | Knex.Transaction;

/** A person's contacts, every author's, private notes included (see the export service). */
export interface ExportContact {
  id: string;
  occurredAt: Date;
  channel: string;
  outcome: string;
  author: string | null;
  summary: string | null;
  privateNote: string | null;
}

export interface ExportFollowUp {
  id: string;
  title: string;
  dueAt: Date;
  status: string;
  completedAt: Date | null;
  completionNote: string | null;
  assignee: string | null;
}

export interface ExportRight {
  code: string;
  label: string;
  status: string;
  reason: string | null;
  monthlyAmountCents: number | null;
  note: string | null;
  updatedAt: Date;
  history: {
    at: Date;
    fromStatus: string | null;
    status: string;
    reason: string | null;
    monthlyAmountCents: number | null;
    note: string | null;
    actor: string | null;
  }[];
}

export interface ExportConsent {
  id: string;
  purpose: string;
  partner: string | null;
  method: string;
  sharedFields: string[];
  givenAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export interface ExportReferral {
  id: string;
  partner: string;
  service: string | null;
  right: string | null;
  status: string;
  reason: string;
  sharedSummary: string | null;
  outcome: string | null;
  statusReasonCode: string | null;
  requester: string | null;
  createdAt: Date;
  events: {
    at: Date;
    fromStatus: string | null;
    toStatus: string;
    reasonCode: string | null;
    note: string | null;
    actor: string | null;
  }[];
}

/**
 * A report (signalement) triaged into or linked to the file. Who reported, and how to reach
 * them, are a third party's data: the right of access does not reach them (RGPD art. 15.4).
 */
export interface ExportReport {
  receiptNumber: string;
  channel: string;
  createdAt: Date;
  location: string | null;
  who: string | null;
  concern: string | null;
  triagedAt: Date | null;
  triageAction: string | null;
}

/**
 * Everything the database holds about one person, for the right of access: every table that
 * names them, free text decrypted, scoped by structure like every person query. It reads the
 * other features' tables itself because the export is the one reader that must see all of it
 * (private notes of every author included), which no feature's own reads give.
 */
export function createPersonExportRepository(cipher: Cipher) {
  const dec = (v: string | null) => cipher.decryptOptional(v);
  const userName = (db: Db, col: string) =>
    db.raw('(SELECT name FROM users u WHERE u.id = ??)', [col]);

  return {
    async reports(db: Db, structureId: string, personId: string): Promise<ExportReport[]> {
      const rows = await db('reports')
        .where({ structure_id: structureId, person_id: personId })
        .orderBy('created_at', 'desc')
        .select(
          'receipt_number',
          'channel',
          'created_at',
          'location_enc',
          'who_enc',
          'concern_enc',
          'triaged_at',
          'triage_action',
        );
      return rows.map((r) => ({
        receiptNumber: r.receipt_number,
        channel: r.channel,
        createdAt: r.created_at,
        location: dec(r.location_enc),
        who: dec(r.who_enc),
        concern: dec(r.concern_enc),
        triagedAt: r.triaged_at,
        triageAction: r.triage_action,
      }));
    },

    async contacts(db: Db, structureId: string, personId: string): Promise<ExportContact[]> {
      const rows = await db('contacts as c')
        .where({ 'c.structure_id': structureId, 'c.person_id': personId })
        .orderBy('c.occurred_at', 'desc')
        .select('c.*', userName(db, 'c.author_id').wrap('', ' AS author'));
      return rows.map((r) => ({
        id: r.id,
        occurredAt: r.occurred_at,
        channel: r.channel,
        outcome: r.outcome,
        author: r.author,
        summary: dec(r.summary_enc),
        privateNote: dec(r.private_note_enc),
      }));
    },

    async followUps(db: Db, structureId: string, personId: string): Promise<ExportFollowUp[]> {
      const rows = await db('follow_ups as f')
        .where({ 'f.structure_id': structureId, 'f.person_id': personId })
        .orderBy('f.due_at', 'desc')
        .select('f.*', userName(db, 'f.assignee_id').wrap('', ' AS assignee'));
      return rows.map((r) => ({
        id: r.id,
        title: r.title,
        dueAt: r.due_at,
        status: r.status,
        completedAt: r.completed_at,
        completionNote: dec(r.completion_note_enc),
        assignee: r.assignee,
      }));
    },

    async rights(db: Db, structureId: string, personId: string): Promise<ExportRight[]> {
      const rows = await db('person_rights as pr')
        .join('rights as r', 'r.id', 'pr.right_id')
        .where({ 'pr.structure_id': structureId, 'pr.person_id': personId })
        .orderBy('r.label')
        .select('pr.*', 'r.code', 'r.label');
      const events = await db('person_right_events as e')
        .where({ 'e.structure_id': structureId, 'e.person_id': personId })
        // Two changes at the same instant come newest first, as on the person's file.
        .orderBy('e.at', 'desc')
        .orderBy('e.seq', 'desc')
        .select('e.*', userName(db, 'e.actor_id').wrap('', ' AS actor'));
      return rows.map((r) => ({
        code: r.code,
        label: r.label,
        status: r.status,
        reason: r.reason,
        monthlyAmountCents: r.monthly_amount_cents,
        note: dec(r.note_enc),
        updatedAt: r.updated_at,
        history: events
          .filter((e) => e.right_id === r.right_id)
          .map((e) => ({
            at: e.at,
            fromStatus: e.from_status,
            status: e.status,
            reason: e.reason,
            monthlyAmountCents: e.monthly_amount_cents,
            note: dec(e.note_enc),
            actor: e.actor,
          })),
      }));
    },

    async consents(db: Db, structureId: string, personId: string): Promise<ExportConsent[]> {
      const rows = await db('consents as c')
        .leftJoin('partners as p', 'p.id', 'c.partner_id')
        .where({ 'c.structure_id': structureId, 'c.person_id': personId })
        .orderBy('c.given_at', 'desc')
        .select('c.*', 'p.name as partner');
      return rows.map((r) => ({
        id: r.id,
        purpose: r.purpose,
        partner: r.partner,
        method: r.method,
        sharedFields: r.shared_fields,
        givenAt: r.given_at,
        expiresAt: r.expires_at,
        revokedAt: r.revoked_at,
      }));
    },

    async referrals(db: Db, structureId: string, personId: string): Promise<ExportReferral[]> {
      const rows = await db('referrals as r')
        .join('partners as p', 'p.id', 'r.partner_id')
        .leftJoin('partner_services as s', 's.id', 'r.service_id')
        .leftJoin('rights as g', 'g.id', 'r.right_id')
        .where({ 'r.structure_id': structureId, 'r.person_id': personId })
        .orderBy('r.created_at', 'desc')
        .select(
          'r.*',
          'p.name as partner',
          's.name as service',
          'g.label as right_label',
          userName(db, 'r.requester_id').wrap('', ' AS requester'),
        );
      const events = rows.length
        ? await db('referral_events as e')
            .whereIn(
              'e.referral_id',
              rows.map((r) => r.id),
            )
            .orderBy('e.at')
            .orderBy('e.seq')
            .select('e.*', userName(db, 'e.actor_id').wrap('', ' AS actor'))
        : [];
      return rows.map((r) => ({
        id: r.id,
        partner: r.partner,
        service: r.service,
        right: r.right_label,
        status: r.status,
        reason: dec(r.reason_enc) ?? '',
        sharedSummary: dec(r.shared_summary_enc),
        outcome: dec(r.outcome_enc),
        statusReasonCode: r.status_reason_code,
        requester: r.requester,
        createdAt: r.created_at,
        events: events
          .filter((e) => e.referral_id === r.id)
          .map((e) => ({
            at: e.at,
            fromStatus: e.from_status,
            toStatus: e.to_status,
            reasonCode: e.reason_code,
            note: dec(e.note_enc),
            actor: e.actor_kind === 'link' ? 'Partenaire (lien)' : e.actor,
          })),
      }));
    },
  };
}

export type PersonExportRepository = ReturnType<typeof createPersonExportRepository>;
