import type { Processor } from '../processor';

/**
 * 'person.no_contact': a "relancer" follow-up for the référent of a person without contact for
 * a while (the rule: follow-up-reminder-service).
 */
export const personNoContact: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.followUpReminders.planNoContact(trx, deadline, now);

/** 'person.suggest_close': longer still without contact, the référent is asked to close. */
export const personSuggestClose: Processor = ({ deadline, trx, deps }) =>
  deps.services.followUpReminders.suggestClose(trx, deadline);
