import type { Processor } from '../processor';

/**
 * 'partner.email_confirm': the link to a partner's new address (the rule: the partner
 * directory's `sendEmailConfirmation`).
 */
export const partnerEmailConfirm: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.partners.sendEmailConfirmation(trx, deadline, now);

/** 'partner.email_changed': the old address is told where the partner's emails go now. */
export const partnerEmailChangedNotice: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.partners.sendEmailChangedNotice(trx, deadline, now);
