import type { Knex } from 'knex';
import type { BusinessCalendar } from '../../lib/calendar';
import type { OutboxWriter } from './outbox';
import { FOLLOW_UP_DUE } from '../follow-ups/follow-up-schemas';
import {
  FOLLOW_UP_ESCALATE,
  FOLLOW_UP_OVERDUE_REMINDER,
  NO_CONTACT_KINDS,
  PERSON_NO_CONTACT,
  PERSON_SUGGEST_CLOSE,
} from './rule-kinds';
import type { RuleSettingsSource } from './rule-settings';
import type { ReminderRepository } from './reminder-repository';

/** Every deadline a follow-up's due moment brings: they move, and go, together. */
export const FOLLOW_UP_KINDS = [FOLLOW_UP_DUE, FOLLOW_UP_OVERDUE_REMINDER, FOLLOW_UP_ESCALATE];

const DAY_MS = 86_400_000;

/**
 * The moment of a no-contact rule `days` after the last contact `last`, at a working moment;
 * a moment counted from `last` that is no longer after `notBefore` (a file reopened, its
 * reminders resumed, a merge: the moment the rules were planned again) is counted from
 * `notBefore` instead, so a rule that had its moment is not played again at once.
 */
export function noContactMoment(
  calendar: BusinessCalendar,
  last: Date,
  days: number,
  notBefore = -Infinity,
): Date {
  const counted = calendar.nextWorkingMoment(new Date(last.getTime() + days * DAY_MS));
  return counted.getTime() > notBefore
    ? counted
    : calendar.nextWorkingMoment(new Date(notBefore + days * DAY_MS));
}

export interface ReminderPlannerDeps {
  /** The durations and the structure's calendar (its working hours and holidays). */
  ruleSettings: RuleSettingsSource;
  reminders: Pick<ReminderRepository, 'lastContactAt'>;
}

/**
 * Writes the deadlines of the reminder rules, in the caller's transaction (the outbox enqueues
 * them after commit). The durations come from `ruleSettings` at planning time; the processors
 * re-check their subject when they run.
 */
export function createReminderPlanner({ ruleSettings, reminders }: ReminderPlannerDeps) {
  return {
    /** A follow-up due at `dueAt`: its due notification, its overdue reminder and its escalation. */
    async planFollowUp(
      trx: Knex.Transaction,
      outbox: OutboxWriter,
      structureId: string,
      followUpId: string,
      dueAt: Date,
    ): Promise<void> {
      const s = await ruleSettings(trx, structureId);
      const { calendar } = s;
      const base = { structureId, subjectType: 'follow_up', subjectId: followUpId };
      await outbox.scheduleAll([
        { ...base, kind: FOLLOW_UP_DUE, dueAt },
        {
          ...base,
          kind: FOLLOW_UP_OVERDUE_REMINDER,
          dueAt: calendar.nextWorkingMoment(
            calendar.addBusinessDays(dueAt, s.followUpReminderDays),
          ),
        },
        {
          ...base,
          kind: FOLLOW_UP_ESCALATE,
          dueAt: calendar.nextWorkingMoment(
            calendar.addBusinessDays(dueAt, s.followUpEscalationDays),
          ),
        },
      ]);
    },

    /** The follow-up closed, moved or was handed on: its pending deadlines go. */
    async cancelFollowUp(outbox: OutboxWriter, followUpId: string): Promise<void> {
      await outbox.cancel('follow_up', followUpId, FOLLOW_UP_KINDS);
    },

    /**
     * The no-contact rules of a person, planned from their last contact (or, with none, from
     * `createdAt` when the file is being created, else from its creation): called when a file is
     * created, when a contact logged becomes the last one (its caller knows that moment:
     * `lastContactAt`, nothing to read), and, with `replannedAt` (now), when the rules are
     * planned again without a new contact: a file reopened, its reminders resumed, a merge.
     * There a rule's moment counted from the last contact that is no longer ahead of
     * `replannedAt` is counted from `replannedAt` instead: the rule had its moment (it acted, or
     * skipped while the file was closed or paused) and is not played again at once, and the
     * file, followed again, gets it after the same number of days without contact. When the
     * pending rules are already due at the moments planned, they stay as they are: no rows
     * cancelled and written again, no jobs replaced.
     */
    async planNoContact(
      trx: Knex.Transaction,
      outbox: OutboxWriter,
      structureId: string,
      personId: string,
      from: { createdAt: Date } | { lastContactAt: Date } | { replannedAt: Date },
    ): Promise<void> {
      const last =
        'lastContactAt' in from
          ? from.lastContactAt
          : ((await reminders.lastContactAt(trx, structureId, personId, 'replannedAt' in from)) ??
            ('createdAt' in from ? from.createdAt : null));
      if (!last) {
        await outbox.cancel('person', personId, NO_CONTACT_KINDS);
        return;
      }
      const s = await ruleSettings(trx, structureId);
      const { calendar } = s;
      const notBefore = 'replannedAt' in from ? from.replannedAt.getTime() : -Infinity;
      const momentOf = (days: number) => noContactMoment(calendar, last, days, notBefore);
      const wanted = [
        { kind: PERSON_NO_CONTACT, dueAt: momentOf(s.noContactDays) },
        { kind: PERSON_SUGGEST_CLOSE, dueAt: momentOf(s.noContactCloseDays) },
      ];
      const pending = await outbox.pending('person', personId, NO_CONTACT_KINDS);
      const unchanged =
        pending.length === wanted.length &&
        wanted.every((w) =>
          pending.some((p) => p.kind === w.kind && p.dueAt.getTime() === w.dueAt.getTime()),
        );
      if (unchanged) return;
      // pending() locked the rows that cancel() would find: they are cancelled as read.
      await outbox.cancelHeld(pending.map((p) => p.id));
      const base = { structureId, subjectType: 'person', subjectId: personId };
      await outbox.scheduleAll(wanted.map((w) => ({ ...base, ...w })));
    },
  };
}

export type ReminderPlanner = ReturnType<typeof createReminderPlanner>;
