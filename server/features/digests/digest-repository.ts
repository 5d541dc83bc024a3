import type { Knex } from 'knex';
import type { Role } from '../../auth/actor';
import {
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_ESCALATED_NOTICE,
} from '../referrals/referral-schemas';
import { REPORT_ESCALATE } from '../reports/report-schemas';
import { FOLLOW_UP_ESCALATE, NOTIFY_DIGEST } from '../deadlines/rule-kinds';
import { escalatesToSql } from '../teams/team-escalation';
import { remindersOnSql } from '../persons/person-reminders';
import { DIGEST_ROLES, receivesEscalations } from './digest-roles';

type Db = Knex | Knex.Transaction;

/** What one user's digest counts; never who it is about. */
export interface DigestCounts {
  dueToday: number;
  overdue: number;
  /**
   * Staff: their referrals past the partner's response delay, and a leaver's whose escalation
   * told them in the leaver's stead. Partners: referrals awaiting their answer.
   */
  referrals: number;
  /**
   * Managers: follow-ups of their teams' members (everyone's when no active manager leads the
   * assignee's teams) escalated and still open and late from the due moment they were escalated
   * from.
   */
  escalations: number;
  /** Managers: reports still waiting triage past the structure's delay. */
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
 * The follow-ups escalated to a manager: open, still late ("overdue" as the digest counts it),
 * whose escalation came from their current due moment (a done `follow_up.escalate` deadline due
 * after it: a follow-up rescheduled past that moment is no longer what was escalated), and whose
 * assignee escalates to this manager now (`escalatesToSql`, the teams' rule): the line follows
 * the teams as they are, not whoever was told then, so a new lead has it and a former or
 * disabled one does not. For anyone else, 0.
 */
const escalationsSql = (manager: boolean) =>
  manager
    ? `(SELECT count(*)::int FROM follow_ups f
         JOIN persons p ON p.id = f.person_id
        WHERE f.structure_id = :s AND f.status = 'open' AND f.due_at < :dayStart AND ${REMINDED}
          AND EXISTS (SELECT 1 FROM deadlines d WHERE d.subject_type = 'follow_up'
                AND d.subject_id = f.id AND d.kind = '${FOLLOW_UP_ESCALATE}' AND d.status = 'done'
                AND d.due_at > f.due_at AND d.due_at <= :now)
          AND ${escalatesToSql(':s', 'f.assignee_id', ':u')})`
    : '0';

/**
 * The reports still waiting triage past the structure's delay (their escalation done), which
 * every active manager hears of; for anyone else, 0.
 */
const escalatedReportsSql = (manager: boolean) =>
  manager
    ? `(SELECT count(*)::int FROM reports r
        WHERE r.structure_id = :s AND r.triaged_at IS NULL
          AND EXISTS (SELECT 1 FROM deadlines d WHERE d.subject_type = 'report'
                AND d.subject_id = r.id AND d.kind = '${REPORT_ESCALATE}' AND d.status = 'done'
                AND d.due_at <= :now))`
    : '0';

/**
 * The referrals still waiting for the partner's answer past its delay that are this user's to
 * chase: their own (the escalation due, run or not), and those whose escalation told them in
 * the stead of a requester who had left (a `referral.escalated` notice to them: the person's
 * référent, else the team leads, as `requesterOrStandIns` decided when it ran).
 */
const REFERRALS_TO_CHASE = `(SELECT count(*)::int FROM referrals r JOIN persons p ON p.id = r.person_id
    WHERE r.structure_id = :s AND r.status = 'requested' AND ${REMINDED}
      AND ((r.requester_id = :u
            AND EXISTS (SELECT 1 FROM deadlines d WHERE d.subject_type = 'referral'
                  AND d.subject_id = r.id AND d.kind = '${REFERRAL_ESCALATE_REQUESTER}'
                  AND d.status <> 'cancelled' AND d.due_at <= :now))
        OR EXISTS (SELECT 1 FROM notifications n WHERE n.recipient_id = :u
                  AND n.kind = '${REFERRAL_ESCALATED_NOTICE}' AND n.subject_type = 'referral'
                  AND n.subject_id = r.id)))`;

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
              ${REFERRALS_TO_CHASE} AS referrals,
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
