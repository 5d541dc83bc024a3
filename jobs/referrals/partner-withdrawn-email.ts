import type { Processor } from '../processor';

/**
 * 'referral.email_withdrawn': the partner is told a referral was withdrawn and its details must
 * no longer be used (the rule: referral-link-service `sendWithdrawnEmail`).
 */
export const referralEmailWithdrawn: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.referralLinks.sendWithdrawnEmail(trx, deadline, now);
