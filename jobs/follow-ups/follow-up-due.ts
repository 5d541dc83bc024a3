import type { BatchProcessor, Processor } from '../processor';

/** 'follow_up.due': the assignee is told at the due moment (the rule: follow-up-reminder-service). */
export const followUpDue: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.followUpReminders.notifyDue(trx, deadline, now);

/** The same rule for a batch of due deadlines of one structure, set-based. */
export const followUpDueBatch: BatchProcessor = ({ deadlines, trx, deps, now }) =>
  deps.services.followUpReminders.notifyDueMany(trx, deadlines, now);
