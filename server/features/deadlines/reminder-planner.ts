import type { Knex } from 'knex';
import type { BusinessCalendar } from '../../lib/calendar';
import type { NewDeadline, OutboxWriter } from './outbox';
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
  reminders: Pick<ReminderRepository, 'lastContactAt' | 'lastContactsAt'>;
}

/**
 * Writes the deadlines of the reminder rules, in the caller's transaction (the outbox enqueues
 * them after commit). The durations come from `ruleSettings` at planning time; the processors
 * re-check their subject when they run.
 */
export function createReminderPlanner({ ruleSettings, reminders }: ReminderPlannerDeps) {
  /**
   * Plans the no-contact rules of each file from its last contact (none: its rules go), a
   * moment no longer after `notBefore` counted from `notBefore` instead. The files whose pending
   * rules are already due at the moments planned keep them: no rows cancelled and written
   * again, no jobs replaced.
   */
  async function planNoContactFrom(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    structureId: string,
    lasts: ReadonlyMap<string, Date | null>,
    notBefore: number,
  ): Promise<void> {
    const planning: { personId: string; last: Date }[] = [];
    for (const [personId, last] of lasts) {
      if (last) planning.push({ personId, last });
      else await outbox.cancel('person', personId, NO_CONTACT_KINDS);
    }
    if (planning.length === 0) return;
    const s = await ruleSettings(trx, structureId);
    const { calendar } = s;
    const pending = await outbox.pending(
      'person',
      planning.map((p) => p.personId),
      NO_CONTACT_KINDS,
    );
    const cancelled: string[] = [];
    const scheduled: NewDeadline[] = [];
    for (const { personId, last } of planning) {
      const momentOf = (days: number) => noContactMoment(calendar, last, days, notBefore);
      const wanted = [
        { kind: PERSON_NO_CONTACT, dueAt: momentOf(s.noContactDays) },
        { kind: PERSON_SUGGEST_CLOSE, dueAt: momentOf(s.noContactCloseDays) },
      ];
      const held = pending.filter((p) => p.subjectId === personId);
      const unchanged =
        held.length === wanted.length &&
        wanted.every((w) =>
          held.some((p) => p.kind === w.kind && p.dueAt.getTime() === w.dueAt.getTime()),
        );
      if (unchanged) continue;
      cancelled.push(...held.map((p) => p.id));
      const base = { structureId, subjectType: 'person', subjectId: personId };
      scheduled.push(...wanted.map((w) => ({ ...base, ...w })));
    }
    // pending() locked the rows that cancel() would find: they are cancelled as read.
    if (cancelled.length) await outbox.cancelHeld(cancelled);
    if (scheduled.length) await outbox.scheduleAll(scheduled);
  }

  const planned = {
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
      if ('replannedAt' in from)
        return planned.planNoContactMany(trx, outbox, structureId, [personId], from);
      const last =
        'lastContactAt' in from
          ? from.lastContactAt
          : ((await reminders.lastContactAt(trx, structureId, personId, false)) ?? from.createdAt);
      await planNoContactFrom(trx, outbox, structureId, new Map([[personId, last]]), -Infinity);
    },

    /**
     * The no-contact rules of many files planned again at `replannedAt` (a leaver's files
     * moved to a new référent), as planNoContact plans one, in a few statements whatever their
     * number: the settings once, the last contacts in one query, the pending rules in one, one
     * cancel and one insert.
     */
    async planNoContactMany(
      trx: Knex.Transaction,
      outbox: OutboxWriter,
      structureId: string,
      personIds: readonly string[],
      from: { replannedAt: Date },
    ): Promise<void> {
      if (personIds.length === 0) return;
      const found = await reminders.lastContactsAt(trx, structureId, [...personIds]);
      const lasts = new Map(personIds.map((id) => [id, found.get(id) ?? null]));
      await planNoContactFrom(trx, outbox, structureId, lasts, from.replannedAt.getTime());
    },
  };
  return planned;
}

export type ReminderPlanner = ReturnType<typeof createReminderPlanner>;
