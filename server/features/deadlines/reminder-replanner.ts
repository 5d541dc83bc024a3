import type { DeadlineReplanner } from '../settings/settings-service';
import { CALENDAR_SETTINGS } from '../settings/settings-schemas';
import {
  FOLLOW_UP_ESCALATE,
  FOLLOW_UP_OVERDUE_REMINDER,
  PERSON_NO_CONTACT,
  PERSON_SUGGEST_CLOSE,
} from './rule-kinds';
import { noContactMoment } from './reminder-planner';
import type { ReminderRepository } from './reminder-repository';

/**
 * The reminder rules' deadlines as new settings place them, counted exactly as the reminder
 * planner counts them: a follow-up's reminder and escalation from its due moment, a person's
 * no-contact rules from their last contact (or the file's creation), never before the moment
 * the rule was planned (`noContactMoment`: a file reopened, resumed or merged keeps its rules
 * counted from then, whatever the new number of days). The daily digest moves with
 * its own replanner (digests/digest-replanner.ts).
 */
export const reminderReplanner = (
  reminders: Pick<ReminderRepository, 'lastContactsAt' | 'followUpDueDates'>,
): DeadlineReplanner => ({
  kinds: {
    [FOLLOW_UP_OVERDUE_REMINDER]: ['followUpReminderDays', ...CALENDAR_SETTINGS],
    [FOLLOW_UP_ESCALATE]: ['followUpEscalationDays', ...CALENDAR_SETTINGS],
    [PERSON_NO_CONTACT]: ['noContactDays', ...CALENDAR_SETTINGS],
    [PERSON_SUGGEST_CLOSE]: ['noContactCloseDays', ...CALENDAR_SETTINGS],
  },
  async replan(trx, structureId, pending, settings, calendar) {
    const next = new Map<string, Date>();
    const dueDates = await reminders.followUpDueDates(trx, structureId, [
      ...new Set(pending.filter((d) => d.subjectType === 'follow_up').map((d) => d.subjectId)),
    ]);
    // Every person's last contact of the batch in one query.
    const lastContacts = await reminders.lastContactsAt(trx, structureId, [
      ...new Set(pending.filter((d) => d.subjectType === 'person').map((d) => d.subjectId)),
    ]);
    for (const d of pending) {
      if (d.kind === FOLLOW_UP_OVERDUE_REMINDER || d.kind === FOLLOW_UP_ESCALATE) {
        const due = dueDates.get(d.subjectId);
        if (!due) continue;
        const days =
          d.kind === FOLLOW_UP_OVERDUE_REMINDER
            ? settings.followUpReminderDays
            : settings.followUpEscalationDays;
        next.set(d.id, calendar.nextWorkingMoment(calendar.addBusinessDays(due, days)));
      } else {
        const last = lastContacts.get(d.subjectId);
        if (!last) continue;
        const days =
          d.kind === PERSON_NO_CONTACT ? settings.noContactDays : settings.noContactCloseDays;
        next.set(d.id, noContactMoment(calendar, last, days, d.createdAt.getTime()));
      }
    }
    return { moves: next };
  },
});
