import type { Processor } from '../processor';

/**
 * 'referral.expire': the partner did not answer within the SLA. Only the system moves a
 * referral to `expired`; the requester is notified and gets a follow-up to re-refer, unless the
 * person's file is closed or anonymised (the referral still expires). The reminder and the
 * escalation due with it run first (the rule: referral-service `expireDue`).
 */
export const referralExpire: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.referrals.expireDue(trx, deadline, now);
