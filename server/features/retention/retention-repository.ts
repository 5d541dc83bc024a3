import type { Knex } from 'knex';
import type { Cipher } from '../../lib/crypto';
import { OPEN_STATUSES, SYSTEM_REASONS, type ReferralStatus } from '../referrals/referral-state';

type Db = Knex | Knex.Transaction;

/** The label an anonymised file keeps in place of its alias (what lists and the timeline show). */
export const ANONYMISED_LABEL = 'Personne anonymisée';
/** Every follow-up title of an anonymised file: titles are free text and may name the person. */
export const ANONYMISED_FOLLOW_UP_TITLE = 'Suivi (fiche anonymisée)';
/** Every notification about an anonymised file, its person, follow-ups or referrals. */
export const ANONYMISED_NOTIFICATION_TITLE = 'Notification sur une fiche anonymisée';

/** What anonymising one file changes (or, in a dry run, would change): counts of rows. */
export interface AnonymisationCounts {
  contacts: number;
  followUps: number;
  rightNotes: number;
  referrals: number;
  /** Of those, the ones still open, which the anonymisation cancels. */
  openReferrals: number;
  referralEvents: number;
  /** Reports (signalements) triaged into or linked to the file. */
  reports: number;
  notifications: number;
}

/** The subjects whose pending deadlines are cancelled with the file. */
export interface PersonSubjects {
  followUpIds: string[];
  referralIds: string[];
  reportIds: string[];
}

/**
 * The rows of retention: which files are due, and the anonymisation of one file across every
 * table that holds its identity or free text, in the caller's transaction. What statistics need
 * stays: birth year, district, source, referent, contact channels and outcomes and dates,
 * follow-up dates and statuses, rights with their statuses, reasons, amounts and history,
 * consents (no free text), referrals with their partner, right, status and coded reasons.
 */
export function createRetentionRepository(cipher: Cipher) {
  /** Rows about the person whose text is cleared, counted the same way for the dry run. */
  async function counts(db: Db, structureId: string, personId: string, s: PersonSubjects) {
    const n = async (q: Knex.QueryBuilder) => Number((await q.count({ n: '*' }).first())?.n ?? 0);
    return {
      contacts: await n(db('contacts').where({ structure_id: structureId, person_id: personId })),
      followUps: s.followUpIds.length,
      rightNotes:
        (await n(
          db('person_rights')
            .where({ structure_id: structureId, person_id: personId })
            .whereNotNull('note_enc'),
        )) +
        (await n(
          db('person_right_events')
            .where({ structure_id: structureId, person_id: personId })
            .whereNotNull('note_enc'),
        )),
      referrals: s.referralIds.length,
      openReferrals: s.referralIds.length
        ? await n(db('referrals').whereIn('id', s.referralIds).whereIn('status', OPEN_STATUSES))
        : 0,
      referralEvents: s.referralIds.length
        ? await n(db('referral_events').whereIn('referral_id', s.referralIds))
        : 0,
      reports: s.reportIds.length,
      notifications: await n(notificationsAbout(db, structureId, personId, s)),
    } satisfies AnonymisationCounts;
  }

  /**
   * What reports said (where, who, the concern; required, so an empty text, encrypted), how to
   * reach the reporter and the triage reason go; the receipt, dates and triage action stay.
   */
  async function clearReports(trx: Knex.Transaction, ids: string[], now: Date) {
    await trx('reports')
      .whereIn('id', ids)
      .update({
        location_enc: cipher.encrypt(''),
        who_enc: null,
        concern_enc: cipher.encrypt(''),
        reporter_contact_enc: null,
        triage_reason_enc: trx.raw("CASE WHEN triage_action = 'dismiss' THEN ? END", [
          cipher.encrypt(''),
        ]),
        anonymised_at: now,
      });
  }

  function notificationsAbout(db: Db, structureId: string, personId: string, s: PersonSubjects) {
    return db('notifications')
      .where({ structure_id: structureId })
      .andWhere((w) => {
        w.where({ subject_type: 'person', subject_id: personId });
        if (s.followUpIds.length)
          w.orWhere((o) =>
            o.where('subject_type', 'follow_up').whereIn('subject_id', s.followUpIds),
          );
        if (s.referralIds.length)
          w.orWhere((o) =>
            o.where('subject_type', 'referral').whereIn('subject_id', s.referralIds),
          );
      });
  }

  return {
    /**
     * Files of the structure with no activity since `cutoff`, not yet anonymised, oldest
     * activity first.
     */
    async dueForAnonymisation(db: Db, structureId: string, cutoff: Date): Promise<string[]> {
      const rows = await db('persons')
        .where({ structure_id: structureId })
        .whereNull('anonymised_at')
        .where('last_activity_at', '<', cutoff)
        .orderBy([{ column: 'last_activity_at' }, { column: 'id' }])
        .select('id');
      return rows.map((r: { id: string }) => r.id);
    },

    /**
     * Locks the file for its anonymisation and answers whether it is still due (not anonymised
     * meanwhile, no activity since `cutoff`): a second run, or a contact logged meanwhile, leaves
     * it alone.
     */
    async lockIfDue(
      trx: Knex.Transaction,
      structureId: string,
      personId: string,
      cutoff: Date,
    ): Promise<boolean> {
      const row = await trx('persons')
        .where({ structure_id: structureId, id: personId })
        .forUpdate()
        .first('anonymised_at', 'last_activity_at');
      return Boolean(row && !row.anonymised_at && row.last_activity_at < cutoff);
    },

    async subjects(db: Db, structureId: string, personId: string): Promise<PersonSubjects> {
      const followUps = await db('follow_ups')
        .where({ structure_id: structureId, person_id: personId })
        .pluck('id');
      const referrals = await db('referrals')
        .where({ structure_id: structureId, person_id: personId })
        .pluck('id');
      const reports = await db('reports')
        .where({ structure_id: structureId, person_id: personId })
        .whereNull('anonymised_at')
        .pluck('id');
      return {
        followUpIds: followUps as string[],
        referralIds: referrals as string[],
        reportIds: reports as string[],
      };
    },

    counts,

    /** Clears the file's identity and free text everywhere; the counts of what it cleared. */
    async anonymise(
      trx: Knex.Transaction,
      structureId: string,
      personId: string,
      s: PersonSubjects,
      now: Date,
    ): Promise<AnonymisationCounts> {
      const changed = await counts(trx, structureId, personId, s);
      await trx('persons')
        .where({ structure_id: structureId, id: personId })
        .update({
          alias: ANONYMISED_LABEL,
          first_name: null,
          last_name: null,
          gender: null,
          household_type: null,
          phone: null,
          email: null,
          address: null,
          place: null,
          situation_enc: null,
          // Nothing automatic about an anonymised file any more.
          pause_reminders: true,
          anonymised_at: now,
          version: trx.raw('version + 1'),
          updated_at: now,
        });
      await trx('contacts')
        .where({ structure_id: structureId, person_id: personId })
        .update({ summary_enc: null, private_note_enc: null });
      await trx('follow_ups').where({ structure_id: structureId, person_id: personId }).update({
        title: ANONYMISED_FOLLOW_UP_TITLE,
        completion_note_enc: null,
        updated_at: now,
      });
      // Nobody follows an anonymised file: its open follow-ups leave everyone's lists.
      await trx('follow_ups')
        .where({ structure_id: structureId, person_id: personId, status: 'open' })
        .update({ status: 'cancelled', version: trx.raw('version + 1') });
      await trx('person_rights')
        .where({ structure_id: structureId, person_id: personId })
        .update({ note_enc: null });
      await trx('person_right_events')
        .where({ structure_id: structureId, person_id: personId })
        .update({ note_enc: null });
      if (s.referralIds.length) {
        // The reason is required by the schema: an empty text, encrypted like any.
        await trx('referrals')
          .whereIn('id', s.referralIds)
          .update({
            reason_enc: cipher.encrypt(''),
            shared_summary_enc: null,
            outcome_enc: null,
            updated_at: now,
          });
        await trx('referral_events')
          .whereIn('referral_id', s.referralIds)
          .update({ note_enc: null });
        // A partner's signed link would show what is left: every link ends now.
        await trx('referral_links')
          .whereIn('referral_id', s.referralIds)
          .where('expires_at', '>', now)
          .update({ expires_at: now });
      }
      if (s.reportIds.length) await clearReports(trx, s.reportIds, now);
      await notificationsAbout(trx, structureId, personId, s).update({
        title: ANONYMISED_NOTIFICATION_TITLE,
        body: null,
      });
      return changed;
    },

    /**
     * Nobody follows an anonymised file: its open referrals end as a revoked consent ends them,
     * cancelled by the system (`person_anonymised`, an event each), so they leave the partner's
     * waiting list and nobody moves them or writes an outcome on them any more. The file is
     * locked, and every move locks it first: none is under way. What each was, for the audit.
     */
    async cancelOpenReferrals(
      trx: Knex.Transaction,
      structureId: string,
      s: PersonSubjects,
      now: Date,
    ): Promise<{ id: string; from: ReferralStatus }[]> {
      if (s.referralIds.length === 0) return [];
      const open: { id: string; status: ReferralStatus }[] = await trx('referrals')
        .where({ structure_id: structureId })
        .whereIn('id', s.referralIds)
        .whereIn('status', OPEN_STATUSES)
        .orderBy('id')
        .forUpdate()
        .select('id', 'status');
      if (open.length === 0) return [];
      await trx('referrals')
        .whereIn(
          'id',
          open.map((r) => r.id),
        )
        .update({
          status: 'cancelled',
          status_reason_code: SYSTEM_REASONS.personAnonymised,
          closed_at: now,
          version: trx.raw('version + 1'),
          updated_at: now,
        });
      await trx('referral_events').insert(
        open.map((r) => ({
          referral_id: r.id,
          structure_id: structureId,
          from_status: r.status,
          to_status: 'cancelled',
          actor_kind: 'system',
          actor_id: null,
          reason_code: SYSTEM_REASONS.personAnonymised,
          note_enc: null,
          at: now,
        })),
      );
      return open.map((r) => ({ id: r.id, from: r.status }));
    },

    /** Reports dismissed before the cutoff whose text is still there (no file to follow them). */
    async dismissedReportsDue(db: Db, structureId: string, cutoff: Date): Promise<string[]> {
      return db('reports')
        .where({ structure_id: structureId, triage_action: 'dismiss' })
        .whereNull('anonymised_at')
        .where('triaged_at', '<', cutoff)
        .orderBy('triaged_at')
        .pluck('id');
    },

    /** Clears dismissed reports (locked again: only those still due). How many it cleared. */
    async clearDismissedReports(
      trx: Knex.Transaction,
      structureId: string,
      ids: string[],
      cutoff: Date,
      now: Date,
    ): Promise<string[]> {
      if (ids.length === 0) return [];
      const due: string[] = await trx('reports')
        .where({ structure_id: structureId, triage_action: 'dismiss' })
        .whereIn('id', ids)
        .whereNull('anonymised_at')
        .where('triaged_at', '<', cutoff)
        .forUpdate()
        .pluck('id');
      if (due.length) await clearReports(trx, due, now);
      return due;
    },

    /**
     * Reports still waiting for triage, received before the cutoff (no file, no triage to
     * follow them): the public form promises they are kept at most the retention period.
     */
    async waitingReportsDue(db: Db, structureId: string, cutoff: Date): Promise<string[]> {
      return db('reports')
        .where({ structure_id: structureId })
        .whereNull('triaged_at')
        .whereNull('anonymised_at')
        .where('created_at', '<', cutoff)
        .orderBy([{ column: 'created_at' }, { column: 'id' }])
        .pluck('id');
    },

    /**
     * Dismisses, by the system (no user), and clears the reports still waiting past the period
     * (locked again: only those still waiting), so they leave the triage queue and the backlog
     * rather than wait there empty. A triage under way holds the lock: it wins. Their ids.
     */
    async dismissWaitingReports(
      trx: Knex.Transaction,
      structureId: string,
      ids: string[],
      cutoff: Date,
      now: Date,
    ): Promise<string[]> {
      if (ids.length === 0) return [];
      const due: string[] = await trx('reports')
        .where({ structure_id: structureId })
        .whereIn('id', ids)
        .whereNull('triaged_at')
        .whereNull('anonymised_at')
        .where('created_at', '<', cutoff)
        .forUpdate()
        .pluck('id');
      if (due.length === 0) return [];
      // A dismissal needs its reason (the triage check): an empty one, as clearing leaves it.
      await trx('reports')
        .whereIn('id', due)
        .update({
          triaged_at: now,
          triaged_by: null,
          triage_action: 'dismiss',
          triage_reason_enc: cipher.encrypt(''),
        });
      await clearReports(trx, due, now);
      return due;
    },

    /** Audit events older than the cutoff (and 12 months by the database's clock), purged. */
    async purgeAudit(trx: Knex.Transaction, cutoff: Date, structureId: string | null) {
      const r = await trx.raw('SELECT audit_events_purge(?, ?) AS n', [cutoff, structureId]);
      return Number(r.rows[0].n);
    },

    /** How many audit events the purge would remove (for the dry run). */
    async countAuditOlderThan(db: Db, cutoff: Date, structureId: string | null) {
      const q = db('audit_events')
        .where('created_at', '<', cutoff)
        .whereRaw("created_at < now() - interval '12 months'");
      if (structureId)
        q.andWhere((w) => w.where({ structure_id: structureId }).orWhereNull('structure_id'));
      return Number((await q.count({ n: '*' }).first())?.n ?? 0);
    },

    async structureIds(db: Db): Promise<string[]> {
      return db('structures').orderBy('created_at').orderBy('id').pluck('id');
    },
  };
}

export type RetentionRepository = ReturnType<typeof createRetentionRepository>;
