import type { Knex } from 'knex';
import type { Role } from '../../auth/actor';
import { REFERRAL_ESCALATE_REQUESTER } from '../referrals/referral-schemas';
import { NOTIFY_REPORT_ESCALATED } from '../reports/report-schemas';
import { NOTIFY_DIGEST, NOTIFY_FOLLOW_UP_ESCALATED } from '../deadlines/rule-kinds';
import { remindersOnSql } from '../persons/person-reminders';
import { DIGEST_ROLES, receivesEscalations } from './digest-roles';

type Db = Knex | Knex.Transaction;

/** What one user's digest counts; never who it is about. */
export interface DigestCounts {
  dueToday: number;
  overdue: number;
  /** Staff: their referrals past the partner's response delay. Partners: referrals awaiting their answer. */
  referrals: number;
  /**
   * Managers: follow-ups escalated to them that are still open and late from the due moment
   * they were escalated from.
   */
  escalations: number;
  /** Managers: reports still waiting triage past the structure's delay, escalated to them. */
  reports: number;
}

export interface DigestRecipient {
  id: string;
  role: Role;
  partnerId: string | null;
  email: string;
  emailNotifications: boolean;
}

/** Persons whose reminders run: paused, closed and anonymised files count in no digest. */
const REMINDED = remindersOnSql('p');

/**
 * A manager's escalated follow-ups: open, still late ("overdue" as the digest counts it), and
 * escalated from their current due moment. An escalation is keyed by its deadline's moment, which
 * comes after the due moment it was planned from: a follow-up rescheduled past that moment is no
 * longer what was escalated (its own escalation, if it comes, is a new notification). For anyone
 * else, 0.
 */
const escalationsSql = (manager: boolean) =>
  manager
    ? `(SELECT count(DISTINCT n.subject_id)::int FROM notifications n
         JOIN follow_ups f ON f.id = n.subject_id AND f.structure_id = :s AND f.status = 'open'
         JOIN persons p ON p.id = f.person_id
        WHERE n.recipient_id = :u AND n.kind = '${NOTIFY_FOLLOW_UP_ESCALATED}' AND ${REMINDED}
          AND f.due_at < :dayStart AND n.due_moment > f.due_at)`
    : '0';

/** A manager's reports escalated for triage and still waiting it; for anyone else, 0. */
const escalatedReportsSql = (manager: boolean) =>
  manager
    ? `(SELECT count(DISTINCT n.subject_id)::int FROM notifications n
         JOIN reports r ON r.id = n.subject_id AND r.structure_id = :s AND r.triaged_at IS NULL
        WHERE n.recipient_id = :u AND n.kind = '${NOTIFY_REPORT_ESCALATED}')`
    : '0';

export function createDigestRepository() {
  const repo = {
    /** The in-app digest a user got at that moment (what their digest email says), or null. */
    async digestAt(
      db: Db,
      userId: string,
      dueMoment: Date,
    ): Promise<{ title: string; body: string | null; link: string | null } | null> {
      const row = await db('notifications')
        .where({
          recipient_id: userId,
          kind: NOTIFY_DIGEST,
          subject_id: userId,
          due_moment: dueMoment,
        })
        .first('title', 'body', 'link');
      return row ? { title: row.title, body: row.body, link: row.link } : null;
    },

    /** The users who get a digest: the structure's active users of the digest's roles. */
    async recipients(db: Db, structureId: string): Promise<DigestRecipient[]> {
      const rows = await db('users')
        .where({ structure_id: structureId })
        .whereIn('role', DIGEST_ROLES)
        .whereNull('disabled_at')
        .orderBy('id')
        .select('id', 'role', 'partner_id', 'email', 'email_notifications');
      return rows.map((r) => ({
        id: r.id,
        role: r.role,
        partnerId: r.partner_id,
        email: r.email,
        emailNotifications: r.email_notifications,
      }));
    },

    /**
     * One staff user's counts at `now`, "today" being [dayStart, dayEnd). A partner user's come
     * from the referral service (what its inbox shows).
     */
    async countsFor(
      db: Db,
      structureId: string,
      user: DigestRecipient,
      at: { now: Date; dayStart: Date; dayEnd: Date },
    ): Promise<DigestCounts> {
      const bind = { u: user.id, s: structureId, ...at };
      const manager = receivesEscalations(user.role);
      const followUpsSql = (when: string) => `(SELECT count(*)::int FROM follow_ups f
        JOIN persons p ON p.id = f.person_id
       WHERE f.assignee_id = :u AND f.structure_id = :s AND f.status = 'open' AND ${when} AND ${REMINDED})`;
      const { rows } = await db.raw(
        `SELECT ${followUpsSql('f.due_at >= :dayStart AND f.due_at < :dayEnd')} AS due_today,
              ${followUpsSql('f.due_at < :dayStart')} AS overdue,
              (SELECT count(*)::int FROM referrals r JOIN persons p ON p.id = r.person_id
                WHERE r.requester_id = :u AND r.structure_id = :s AND r.status = 'requested' AND ${REMINDED}
                  AND EXISTS (SELECT 1 FROM deadlines d WHERE d.subject_type = 'referral'
                        AND d.subject_id = r.id AND d.kind = '${REFERRAL_ESCALATE_REQUESTER}'
                        AND d.status <> 'cancelled' AND d.due_at <= :now)) AS referrals,
              ${escalationsSql(manager)} AS escalations,
              ${escalatedReportsSql(manager)} AS reports`,
        bind,
      );
      const r = rows[0];
      return {
        dueToday: r.due_today,
        overdue: r.overdue,
        referrals: r.referrals,
        escalations: r.escalations,
        reports: r.reports,
      };
    },
  };
  return repo;
}

export type DigestRepository = ReturnType<typeof createDigestRepository>;
