import type { Processor } from '../processor';

/**
 * 'referral.outcome_follow_up', at the outcome question's moment (spec section 3, closing the
 * loop): a follow-up for the person's referent (else the requester) to update the person's right.
 * Its own kind, apart from the email to the partner: planning it locks the person and the
 * referral, which must not wait on an SMTP send, and it must not roll back with a failed send.
 * `referral_follow_ups` (referral + purpose) makes a second run plan nothing.
 */
export const referralOutcomeFollowUp: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.referrals.planOutcomeFollowUp(trx, deadline, now);
