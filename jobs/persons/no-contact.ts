import type { Knex } from 'knex';
import type { Deps } from '../../server/container';
import { auditTrail } from '../../server/features/audit/audit-trail';
import {
  deadlineRepository,
  type Deadline,
} from '../../server/features/deadlines/deadline-repository';
import { lastContactAt } from '../../server/features/deadlines/reminder-planner';
import { NOTIFY_SUGGEST_CLOSE } from '../../server/features/deadlines/rule-kinds';
import { notificationRepository } from '../../server/features/notifications/notification-repository';
import { personLabel } from '../../server/features/persons/person-label';
import type { UserRecord } from '../../server/features/users/user-service';
import { outboxIn } from '../../server/features/deadlines/outbox';
import { done, skipped, type Processor, type ProcessorResult } from '../processor';

const DAY_MS = 86_400_000;

/**
 * The person and référent of a no-contact deadline, when the rule still applies: the person
 * locked (a contact logged meanwhile locks it first, so this waits for it and then sees it),
 * still followed, reminders not paused, no contact since the deadline was planned, and an active
 * référent to tell.
 */
async function stillWithoutContact(
  trx: Knex.Transaction,
  deps: Deps,
  deadline: Deadline,
  days: number,
): Promise<{ personId: string; label: string; referent: UserRecord } | ProcessorResult> {
  const { structureId } = deadline;
  if (!(await deps.repos.persons.lock(trx, structureId, deadline.subjectId)))
    return skipped('person not found');
  const person = await deps.repos.persons.findById(trx, structureId, deadline.subjectId);
  if (!person || person.anonymisedAt) return skipped('person no longer followed');
  if (person.closedAt) return skipped('file closed');
  if (person.pauseReminders) return skipped('reminders paused for this person');
  if (await deadlineRepository.hasNewer(trx, deadline))
    return skipped('a contact was logged: a newer deadline holds the rule');
  // The last contact only: the deadline was planned from the file's creation when it had none.
  const last = await lastContactAt(trx, structureId, person.id, false);
  if (last && last.getTime() + days * DAY_MS > deadline.dueAt.getTime())
    return skipped('a contact was logged since');
  if (!person.referentId) return skipped('no référent');
  const referent = await deps.services.users.findActiveStaff(trx, structureId, person.referentId);
  if (!referent) return skipped('no active référent');
  return { personId: person.id, label: personLabel(person), referent };
}

const isResult = (v: object): v is ProcessorResult => 'status' in v;

/**
 * 'person.no_contact': an active person with no contact for 30 days (setting) gets a
 * "relancer" follow-up for the référent, due at once (its own due deadline then notifies them).
 * The follow-up carries this deadline's id, unique: a second run plans nothing.
 */
export const personNoContact: Processor = async ({ deadline, trx, deps, now }) => {
  const s = await deps.ruleSettings(trx, deadline.structureId);
  const found = await stillWithoutContact(trx, deps, deadline, s.noContactDays);
  if (isResult(found)) return found;
  if (await trx('follow_ups').where({ origin_deadline_id: deadline.id }).first('id'))
    return skipped('follow-up already planned');
  const followUpId = await deps.services.followUps.planInTransaction(
    trx,
    outboxIn(trx),
    found.referent,
    {
      personId: found.personId,
      title: `Relancer : aucun contact depuis ${s.noContactDays} jours`,
      dueAt: now,
      assigneeId: found.referent.id,
      originDeadlineId: deadline.id,
    },
  );
  await auditTrail.record(trx, {
    actor: null,
    structureId: deadline.structureId,
    action: 'follow_up.create',
    subjectType: 'person',
    subjectId: found.personId,
    details: { followUpId, deadlineId: deadline.id, purpose: 'no_contact', by: 'system' },
  });
  return done();
};

/** 'person.suggest_close': after 90 days (setting) without contact, the référent is asked to close. */
export const personSuggestClose: Processor = async ({ deadline, trx, deps }) => {
  const s = await deps.ruleSettings(trx, deadline.structureId);
  const found = await stillWithoutContact(trx, deps, deadline, s.noContactCloseDays);
  if (isResult(found)) return found;
  await notificationRepository.insertOnce(trx, {
    structureId: deadline.structureId,
    recipientId: found.referent.id,
    kind: NOTIFY_SUGGEST_CLOSE,
    subjectType: 'person',
    subjectId: found.personId,
    dueMoment: deadline.dueAt,
    title: `Aucun contact depuis ${s.noContactCloseDays} jours : clore le dossier ?`,
    body: `Pour : ${found.label}`,
    link: `/personnes/${found.personId}`,
  });
  return done();
};
