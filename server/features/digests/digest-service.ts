import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { sendDeadlineEmail, type Mailer, type SentEmailLog } from '../../lib/mailer';
import { done, skipped, type DeadlineOutcome } from '../deadlines/deadline-outcome';
import type { Deadline, OutboxIn, StructureRuns } from '../deadlines/outbox';
import type { DeadlineRelay } from '../deadlines/deadline-relay';
import type { MessageHours } from '../deadlines/message-hours';
import { DIGEST_DAILY, DIGEST_EMAIL, NOTIFY_DIGEST } from '../deadlines/rule-kinds';
import type { RuleSettingsSource } from '../deadlines/rule-settings';
import type { NotificationService } from '../notifications/notification-service';
import type { ReferralService } from '../referrals/referral-service';
import type { UserService } from '../users/user-service';
import { digestEmail, digestLines, digestLink, isEmpty } from './digest-email';
import { type DigestCounts, type DigestRepository } from './digest-repository';
import { receivesDigest } from './digest-roles';

export interface DigestServiceDeps {
  knex: Knex;
  clock: Clock;
  /** The digest time and the structure's calendar (its working days). */
  ruleSettings: RuleSettingsSource;
  relay: Pick<DeadlineRelay, 'enqueue'>;
  mailer: Pick<Mailer, 'send'>;
  publicUrl: string;
  digests: DigestRepository;
  outboxIn: OutboxIn;
  structureRuns: StructureRuns;
  notifications: Pick<NotificationService, 'notifyInTransaction'>;
  users: Pick<UserService, 'findAnyInStructure'>;
  /** A partner user's count: the referrals its inbox shows waiting for an answer. */
  referrals: Pick<ReferralService, 'countAwaitingAnswer'>;
  /** The emails sent by deadlines (one Message-ID per deadline), shared with the other emails. */
  sentEmails: SentEmailLog;
  /** Working hours at send time, in the structure's calendar. */
  messageHours: Pick<MessageHours, 'isWorkingMoment'>;
}

const LINE_SEPARATOR = ' · ';

const dayTitle = (at: Date) =>
  `Votre point du jour du ${new Intl.DateTimeFormat('fr-FR', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    timeZone: 'Europe/Paris',
  }).format(at)}`;

/**
 * The daily digest (spec section 3): each working day at the digest time, one deadline per
 * structure gives every user with something waiting an in-app digest (counts and links, no
 * person), and those who want it the same by email, each email its own deadline on the email
 * path (sent_emails, one Message-ID per deadline). Nothing when there is nothing; nothing on
 * weekends and public holidays. Each digest plans the next one; the worker makes sure every
 * structure has one planned.
 */
export function createDigestService(deps: DigestServiceDeps) {
  const { digests, outboxIn, structureRuns } = deps;
  const { knex, clock, ruleSettings, relay, publicUrl } = deps;
  const { notifications, users, sentEmails, referrals } = deps;

  async function nextMoment(db: Knex | Knex.Transaction, structureId: string, after: Date) {
    const s = await ruleSettings(db, structureId);
    return s.calendar.nextBusinessTimeAfter(after, s.digestTime);
  }

  return {
    /**
     * When the user's digest comes: their structure's digest time ("HH:MM", Paris), each working
     * day; null for a role that gets none (the account page offers the digest to the others).
     */
    async scheduleFor(actor: Actor): Promise<{ time: string } | null> {
      if (!receivesDigest(actor.role)) return null;
      return { time: (await ruleSettings(knex, actor.structureId)).digestTime };
    },

    /** Plans the next digest of every structure that has none pending; how many were planned. */
    async ensurePlanned(): Promise<number> {
      const ids: string[] = [];
      for (const structureId of await structureRuns.structuresWithout(knex, DIGEST_DAILY)) {
        const dueAt = await nextMoment(knex, structureId, clock.now());
        const id = await structureRuns.planOnce(knex, DIGEST_DAILY, structureId, dueAt);
        if (id) ids.push(id);
      }
      await relay.enqueue(ids);
      return ids.length;
    },

    /** 'digest.daily', in its deadline's transaction. */
    async runDaily(trx: Knex.Transaction, deadline: Deadline, now: Date): Promise<DeadlineOutcome> {
      const { structureId, dueAt } = deadline;
      const { calendar } = await ruleSettings(trx, structureId);
      // A digest tells its own day: once that day is over (an outage spanning midnight), it
      // would say the wrong date and count a day gone by.
      const pastItsDay = now >= calendar.startOfDay(dueAt, 1);
      // The next one first, whatever this one finds. From now when this one runs late, so an
      // outage does not bring a burst of stale digests; from the start of today when its day is
      // over (as digestReplanner does), so today's digest, its time already past, comes at once.
      const after = pastItsDay
        ? new Date(calendar.startOfDay(now).getTime() - 1)
        : now > dueAt
          ? now
          : dueAt;
      await structureRuns.planOnce(
        trx,
        DIGEST_DAILY,
        structureId,
        await nextMoment(trx, structureId, after),
      );
      if (!calendar.isBusinessDay(dueAt)) return skipped('not a working day');
      if (pastItsDay) return skipped('past its day');

      const at = {
        now: dueAt,
        dayStart: calendar.startOfDay(dueAt),
        dayEnd: calendar.startOfDay(dueAt, 1),
      };
      const outbox = outboxIn(trx);
      let sent = 0;
      // A partner's count is its organisation's: read once for all its users.
      const awaiting = new Map<string, Promise<number>>();
      const partnerCounts = async (partnerId: string | null): Promise<DigestCounts> => {
        if (partnerId && !awaiting.has(partnerId))
          awaiting.set(partnerId, referrals.countAwaitingAnswer(trx, partnerId, at.now));
        const waiting = partnerId ? await awaiting.get(partnerId)! : 0;
        return { dueToday: 0, overdue: 0, referrals: waiting, escalations: 0, reports: 0 };
      };
      for (const user of await digests.recipients(trx, structureId)) {
        const counts =
          user.role === 'partner'
            ? await partnerCounts(user.partnerId)
            : await digests.countsFor(trx, structureId, user, at);
        if (isEmpty(counts)) continue;
        const created = await notifications.notifyInTransaction(trx, {
          structureId,
          recipientId: user.id,
          kind: NOTIFY_DIGEST,
          subjectType: 'user',
          subjectId: user.id,
          dueMoment: dueAt,
          title: dayTitle(dueAt),
          body: digestLines(counts, user.role === 'partner').join(LINE_SEPARATOR),
          link: digestLink(counts, user.role === 'partner'),
        });
        sent += 1;
        // Already there: a run whose status was lost; its email was planned with it.
        if (created && user.emailNotifications) {
          await outbox.schedule({
            structureId,
            kind: DIGEST_EMAIL,
            subjectType: 'user',
            subjectId: user.id,
            dueAt,
          });
        }
      }
      return sent > 0 ? done() : skipped('nothing to tell anyone');
    },

    /**
     * 'digest.email': the user's digest of that moment, by email, if they still want it. Sent
     * inside the deadline's transaction; `sent_emails` commits with it (at least once, with a
     * stable Message-ID).
     */
    async sendEmail(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      if (await sentEmails.wasSent(trx, deadline.id)) return skipped('email already sent');
      const user = await users.findAnyInStructure(trx, deadline.structureId, deadline.subjectId);
      if (!user || user.disabledAt) return skipped('user disabled');
      if (!user.emailNotifications) return skipped('user turned digest emails off');
      // A day's digest is that day's news: an email still failing at midnight is not sent the
      // next day, whose own digest tells what is waiting then.
      const { calendar } = await ruleSettings(trx, deadline.structureId);
      if (now >= calendar.startOfDay(deadline.dueAt, 1)) return skipped('past its day');
      // A partner gets nothing out of working hours; a digest is the day's, and the next working
      // day's digest tells the same, so this one is not held over to send both together.
      if (
        user.role === 'partner' &&
        !(await deps.messageHours.isWorkingMoment(trx, deadline.structureId, now))
      )
        return skipped('outside working hours: the next digest tells the same');
      const digest = await digests.digestAt(trx, user.id, deadline.dueAt);
      if (!digest?.body) return skipped('no digest at that moment');
      await sendDeadlineEmail(deps, trx, deadline, now, (messageId) =>
        digestEmail({
          to: user.email,
          title: digest.title,
          lines: String(digest.body).split(LINE_SEPARATOR),
          publicUrl,
          // Every digest is written with its link; the home page should one lack it.
          link: digest.link ?? '/',
          messageId,
        }),
      );
      return done();
    },
  };
}

export type DigestService = ReturnType<typeof createDigestService>;
