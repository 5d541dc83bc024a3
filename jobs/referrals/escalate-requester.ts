import type { Processor } from '../processor';

/**
 * 'referral.escalate_requester': the partner's answer delay ended without an answer; the
 * requester is told (the rule: referral-service `escalateToRequester`).
 */
export const referralEscalateRequester: Processor = ({ deadline, trx, deps }) =>
  deps.services.referrals.escalateToRequester(trx, deadline);
