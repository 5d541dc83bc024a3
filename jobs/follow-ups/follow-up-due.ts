import { followUpRepository } from '../../server/features/follow-ups/follow-up-repository';
import { FOLLOW_UP_DUE } from '../../server/features/follow-ups/follow-up-schemas';
import { notificationRepository } from '../../server/features/notifications/notification-repository';
import { done, skipped, type Processor } from '../processor';

/**
 * 'follow_up.due': the assignee gets an in-app notification at the due moment.
 * The notification carries the follow-up's title and a link, nothing else about the person.
 */
export const followUpDue: Processor = async ({ deadline, trx, deps, now }) => {
  const { structureId } = deadline;
  const followUp = await followUpRepository.findById(trx, structureId, deadline.subjectId, now);
  if (!followUp) return skipped('follow-up not found');
  if (followUp.status !== 'open') return skipped(`follow-up is ${followUp.status}`);
  // A rescheduled follow-up has its own, newer deadline; this one is stale.
  if (new Date(followUp.dueAt).getTime() !== deadline.dueAt.getTime())
    return skipped('follow-up was rescheduled');

  const person = await deps.repos.persons.findById(trx, structureId, followUp.personId);
  if (!person || person.anonymisedAt) return skipped('person no longer followed');
  if (person.pauseReminders) return skipped('reminders paused for this person');

  await notificationRepository.insertOnce(trx, {
    structureId,
    recipientId: followUp.assigneeId,
    kind: FOLLOW_UP_DUE,
    subjectType: 'follow_up',
    subjectId: followUp.id,
    dueMoment: deadline.dueAt,
    title: `Suivi à faire : ${followUp.title}`,
    link: `/personnes/${followUp.personId}`,
  });
  return done();
};
