import type { Processor } from '../processor';

/** 'follow_up.due': the assignee is told at the due moment (the rule: follow-up-reminder-service). */
export const followUpDue: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.followUpReminders.notifyDue(trx, deadline, now);
