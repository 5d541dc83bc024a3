import type { Knex } from 'knex';
import type { Deps } from '../../server/container';
import { businessDaysBetween } from '../../server/lib/calendar';
import {
  deadlineRepository,
  type Deadline,
} from '../../server/features/deadlines/deadline-repository';
import {
  NOTIFY_FOLLOW_UP_ESCALATED,
  NOTIFY_FOLLOW_UP_OVERDUE,
} from '../../server/features/deadlines/rule-kinds';
import {
  followUpRepository,
  type FollowUp,
} from '../../server/features/follow-ups/follow-up-repository';
import { notificationRepository } from '../../server/features/notifications/notification-repository';
import { done, skipped, type Processor, type ProcessorResult } from '../processor';

/**
 * The follow-up of an overdue deadline, when the rule still applies: locked (a change of the
 * follow-up locks it first, so this waits for it), still open, this deadline its newest of the
 * kind (a reschedule or a reassignment plans new ones), and reminders not paused for the person.
 */
async function stillOverdue(
  trx: Knex.Transaction,
  deps: Deps,
  deadline: Deadline,
  now: Date,
): Promise<FollowUp | ProcessorResult> {
  const { structureId } = deadline;
  if (!(await followUpRepository.lock(trx, structureId, deadline.subjectId)))
    return skipped('follow-up not found');
  const followUp = await followUpRepository.findById(trx, structureId, deadline.subjectId, now);
  if (!followUp) return skipped('follow-up not found');
  if (followUp.status !== 'open') return skipped(`follow-up is ${followUp.status}`);
  if (await deadlineRepository.hasNewer(trx, deadline))
    return skipped('follow-up was rescheduled or reassigned: a newer deadline holds the rule');
  if (followUp.dueAt.getTime() >= deadline.dueAt.getTime())
    return skipped('follow-up is not overdue');
  const person = await deps.repos.persons.findById(trx, structureId, followUp.personId);
  if (!person || person.anonymisedAt) return skipped('person no longer followed');
  if (person.pauseReminders) return skipped('reminders paused for this person');
  return followUp;
}

const isResult = (v: FollowUp | ProcessorResult): v is ProcessorResult =>
  'status' in v && !('id' in v);

/**
 * 'follow_up.overdue_reminder': a few business days past its due moment, the assignee is
 * reminded in the app. The notification names the person (its recipient may read the file).
 */
export const followUpOverdueReminder: Processor = async ({ deadline, trx, deps, now }) => {
  const f = await stillOverdue(trx, deps, deadline, now);
  if (isResult(f)) return f;
  const days = businessDaysBetween(deps.calendar, f.dueAt, deadline.dueAt);
  await notificationRepository.insertOnce(trx, {
    structureId: deadline.structureId,
    recipientId: f.assigneeId,
    kind: NOTIFY_FOLLOW_UP_OVERDUE,
    subjectType: 'follow_up',
    subjectId: f.id,
    dueMoment: deadline.dueAt,
    title: `Suivi en retard de ${days} ${days > 1 ? 'jours ouvrés' : 'jour ouvré'} : ${f.title}`,
    body: f.personLabel ? `Pour : ${f.personLabel}` : null,
    link: `/personnes/${f.personId}`,
  });
  return done();
};

/**
 * 'follow_up.escalate': later still, the managers leading the assignee's teams (else the
 * structure's managers) are told in the app (and the escalation stays in their daily digest while the follow-up is open).
 */
export const followUpEscalate: Processor = async ({ deadline, trx, deps, now }) => {
  const f = await stillOverdue(trx, deps, deadline, now);
  if (isResult(f)) return f;
  // The teams service answers who: the managers leading the assignee's teams, else the
  // structure's active managers, so an escalation never goes nowhere.
  const managers = await deps.services.teams.managersOf(trx, deadline.structureId, f.assigneeId);
  if (managers.length === 0) return skipped('the structure has no active manager');
  const days = businessDaysBetween(deps.calendar, f.dueAt, deadline.dueAt);
  for (const m of managers) {
    await notificationRepository.insertOnce(trx, {
      structureId: deadline.structureId,
      recipientId: m.id,
      kind: NOTIFY_FOLLOW_UP_ESCALATED,
      subjectType: 'follow_up',
      subjectId: f.id,
      dueMoment: deadline.dueAt,
      title: `Suivi en retard de ${days} jours ouvrés (${f.assigneeName ?? 'sans responsable'}) : ${f.title}`,
      body: f.personLabel ? `Pour : ${f.personLabel}` : null,
      link: `/personnes/${f.personId}`,
    });
  }
  return done();
};
