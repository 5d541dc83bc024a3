import type { Knex } from 'knex';
import type { BusinessCalendar } from '../../lib/calendar';
import type { Clock } from '../../lib/clock';
import type { Mailer } from '../../lib/mailer';
import { outboxIn } from '../../lib/unit-of-work';
import type { Deadline } from '../deadlines/deadline-repository';
import type { DeadlineRelay } from '../deadlines/deadline-relay';
import { DIGEST_EMAIL, NOTIFY_DIGEST } from '../deadlines/rule-kinds';
import type { RuleSettingsSource } from '../deadlines/rule-settings';
import { notificationRepository } from '../notifications/notification-repository';
import { sentEmailRepository } from '../referrals/sent-email-repository';
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

  async function nextMoment(db: Knex | Knex.Transaction, structureId: string, after: Date) {
    const s = await ruleSettings(db, structureId);
    return calendar.nextBusinessTimeAfter(after, s.digestTime);
  }

  return {
    /** Plans the next digest of every structure that has none pending; how many were planned. */
    async ensurePlanned(): Promise<number> {
      const ids: string[] = [];
      for (const structureId of await digestRepository.structuresWithoutDigest(knex)) {
        const dueAt = await nextMoment(knex, structureId, clock.now());
        const id = await digestRepository.planOnce(knex, structureId, dueAt);
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
      await digestRepository.planOnce(trx, structureId, await nextMoment(trx, structureId, after));
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
        const created = await notificationRepository.insertOnce(trx, {
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
      if (await sentEmailRepository.wasSent(trx, deadline.id))
        return { done: false, reason: 'email already sent' };
      const user = await trx('users')
        .where({ id: deadline.subjectId, structure_id: deadline.structureId })
        .first('id', 'email', 'role', 'disabled_at', 'email_notifications');
      if (!user || user.disabled_at) return { done: false, reason: 'user disabled' };
      if (!user.email_notifications)
        return { done: false, reason: 'user turned digest emails off' };
      const digest = await trx('notifications')
        .where({
          recipient_id: user.id,
          kind: NOTIFY_DIGEST,
          subject_id: user.id,
          due_moment: deadline.dueAt,
        })
        .first('title', 'body');
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
      await sentEmailRepository.record(trx, {
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
