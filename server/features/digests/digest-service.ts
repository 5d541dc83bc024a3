import type { Knex } from 'knex';
import type { BusinessCalendar } from '../../lib/calendar';
import type { Clock } from '../../lib/clock';
import type { Mailer } from '../../lib/mailer';
import { outboxIn, structureRuns, type Deadline } from '../deadlines/outbox';
import type { DeadlineRelay } from '../deadlines/deadline-relay';
import { DIGEST_DAILY, DIGEST_EMAIL, NOTIFY_DIGEST } from '../deadlines/rule-kinds';
import type { RuleSettingsSource } from '../deadlines/rule-settings';
import type { NotificationService } from '../notifications/notification-service';
import type { UserService } from '../users/user-service';
import { digestEmail, digestLines, isEmpty } from './digest-email';
import { digestRepository } from './digest-repository';

export interface DigestServiceDeps {
  knex: Knex;
  clock: Clock;
  calendar: BusinessCalendar;
  ruleSettings: RuleSettingsSource;
  relay: Pick<DeadlineRelay, 'enqueue'>;
  mailer: Pick<Mailer, 'send'>;
  publicUrl: string;
  notifications: Pick<NotificationService, 'notifyInTransaction'>;
  users: Pick<UserService, 'findAnyInStructure'>;
  /** The emails sent by deadlines (one Message-ID per deadline), shared with the other emails. */
  sentEmails: {
    wasSent(db: Knex.Transaction, deadlineId: string): Promise<boolean>;
    record(
      db: Knex.Transaction,
      e: { deadlineId: string; structureId: string; kind: string; messageId: string; at: Date },
    ): Promise<void>;
  };
}

/** What a digest run did, or why it did nothing (kept on the deadline row). */
export type DigestOutcome = { done: true } | { done: false; reason: string };

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
  const { knex, clock, calendar, ruleSettings, relay, mailer, publicUrl } = deps;
  const { notifications, users, sentEmails } = deps;

  async function nextMoment(db: Knex | Knex.Transaction, structureId: string, after: Date) {
    const s = await ruleSettings(db, structureId);
    return calendar.nextBusinessTimeAfter(after, s.digestTime);
  }

  return {
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
    async runDaily(trx: Knex.Transaction, deadline: Deadline, now: Date): Promise<DigestOutcome> {
      const { structureId, dueAt } = deadline;
      // The next one first, whatever this one finds; from now when this one runs late, so an
      // outage does not bring a burst of stale digests.
      const after = now > dueAt ? now : dueAt;
      await structureRuns.planOnce(
        trx,
        DIGEST_DAILY,
        structureId,
        await nextMoment(trx, structureId, after),
      );
      if (!calendar.isBusinessDay(dueAt)) return { done: false, reason: 'not a working day' };

      const at = {
        now: dueAt,
        dayStart: calendar.startOfDay(dueAt),
        dayEnd: calendar.startOfDay(dueAt, 1),
      };
      const outbox = outboxIn(trx);
      let sent = 0;
      for (const user of await digestRepository.recipients(trx, structureId)) {
        const counts = await digestRepository.countsFor(trx, structureId, user, at);
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
          link: user.role === 'partner' ? '/orientations' : '/',
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
      return sent > 0 ? { done: true } : { done: false, reason: 'nothing to tell anyone' };
    },

    /**
     * 'digest.email': the user's digest of that moment, by email, if they still want it. Sent
     * inside the deadline's transaction; `sent_emails` commits with it (at least once, with a
     * stable Message-ID).
     */
    async sendEmail(trx: Knex.Transaction, deadline: Deadline, now: Date): Promise<DigestOutcome> {
      if (await sentEmails.wasSent(trx, deadline.id))
        return { done: false, reason: 'email already sent' };
      const user = await users.findAnyInStructure(trx, deadline.structureId, deadline.subjectId);
      if (!user || user.disabledAt) return { done: false, reason: 'user disabled' };
      if (!user.emailNotifications) return { done: false, reason: 'user turned digest emails off' };
      const digest = await digestRepository.digestAt(trx, user.id, deadline.dueAt);
      if (!digest?.body) return { done: false, reason: 'no digest at that moment' };
      const host = new URL(publicUrl).hostname || 'aller-vers.local';
      const messageId = `<deadline-${deadline.id}@${host}>`;
      await mailer.send(
        digestEmail({
          to: user.email,
          title: digest.title,
          lines: String(digest.body).split(LINE_SEPARATOR),
          publicUrl,
          partner: user.role === 'partner',
          messageId,
        }),
      );
      await sentEmails.record(trx, {
        deadlineId: deadline.id,
        structureId: deadline.structureId,
        kind: deadline.kind,
        messageId,
        at: now,
      });
      return { done: true };
    },
  };
}

export type DigestService = ReturnType<typeof createDigestService>;
