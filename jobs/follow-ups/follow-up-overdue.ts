import type { BatchProcessor, Processor } from '../processor';

/**
 * 'follow_up.overdue_reminder': a few business days past its due moment, the assignee is
 * reminded (the rule: follow-up-reminder-service).
 */
export const followUpOverdueReminder: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.followUpReminders.remindOverdue(trx, deadline, now);

/** The same rule for a batch of due overdue reminders of one structure, set-based. */
export const followUpOverdueReminderBatch: BatchProcessor = ({ deadlines, trx, deps, now }) =>
  deps.services.followUpReminders.remindOverdueMany(trx, deadlines, now);

/** 'follow_up.escalate': later still, the managers leading the assignee's teams are told. */
export const followUpEscalate: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.followUpReminders.escalateOverdue(trx, deadline, now);
