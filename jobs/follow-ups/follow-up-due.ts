import { deadlineRepository } from '../../server/features/deadlines/deadline-repository';
import { followUpRepository } from '../../server/features/follow-ups/follow-up-repository';
import { FOLLOW_UP_DUE } from '../../server/features/follow-ups/follow-up-schemas';
import { notificationRepository } from '../../server/features/notifications/notification-repository';
import { done, skipped, type Processor } from '../processor';

/**
 * 'follow_up.due': the assignee gets an in-app notification at the due moment, from the
 * follow-up's current deadline only (a reschedule or a reassignment schedules a new one).
 * The in-app notification names the person (its recipient, the assignee, is staff of the
 * file's structure and may read it); emails never carry it.
 */
export const followUpDue: Processor = async ({ deadline, trx, deps, now }) => {
  const { structureId } = deadline;
  // A change of the follow-up (complete, reschedule, reassign) locks it first and then cancels
  // its pending deadline, but leaves this one pending when this job holds it. Locking the
  // follow-up here waits for such a change to commit, so what follows reads it whole.
  if (!(await followUpRepository.lock(trx, structureId, deadline.subjectId)))
    return skipped('follow-up not found');
  const followUp = await followUpRepository.findById(trx, structureId, deadline.subjectId, now);
  if (!followUp) return skipped('follow-up not found');
  if (followUp.status !== 'open') return skipped(`follow-up is ${followUp.status}`);
  // A rescheduled follow-up has its own, newer deadline; this one is stale.
  if (new Date(followUp.dueAt).getTime() !== deadline.dueAt.getTime())
    return skipped('follow-up was rescheduled');
  // A reassigned one too, due at the same moment: the newest deadline is for its current
  // assignee, and this one was scheduled for the one before.
  if (await deadlineRepository.hasNewer(trx, deadline))
    return skipped('follow-up was reassigned: a newer deadline notifies its assignee');

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
    body: followUp.personLabel ? `Pour : ${followUp.personLabel}` : null,
    link: `/personnes/${followUp.personId}`,
  });
  return done();
};
