import { businessDaysBetween } from '../../server/lib/calendar';
import { notificationRepository } from '../../server/features/notifications/notification-repository';
import { done, skipped, type Processor } from '../processor';

/**
 * 'referral.escalate_requester': the partner's answer delay ended without an answer; the
 * requester is told in-app, so they can call the partner before the referral expires, unless
 * reminders are paused for the person.
 * The notification's unique key (recipient, kind, subject, the deadline's due moment) makes a
 * second run a no-op.
 */
export const referralEscalateRequester: Processor = async ({ deadline, trx, deps }) => {
  const row = await deps.repos.referrals.escalationContext(
    trx,
    deadline.structureId,
    deadline.subjectId,
  );
  if (!row) return skipped('referral not found');
  if (row.status !== 'requested') return skipped(`referral is ${row.status}`);
  // An automatic message about the person, which pauseReminders stops.
  if (row.pauseReminders) return skipped('reminders paused for this person');
  if (!row.requesterId || row.requesterDisabledAt) return skipped('no active requester');

  const days = businessDaysBetween(deps.calendar, row.createdAt, deadline.dueAt);
  // The title names the partner and the delay, never the person: it may go out by email.
  await notificationRepository.insertOnce(trx, {
    structureId: deadline.structureId,
    recipientId: row.requesterId,
    kind: 'referral.escalated',
    subjectType: 'referral',
    subjectId: row.id,
    dueMoment: deadline.dueAt,
    title: `Orientation vers ${row.partnerName} sans réponse depuis ${days} ${days > 1 ? 'jours ouvrés' : 'jour ouvré'}`,
    link: `/orientations/${row.id}`,
  });
  return done();
};
