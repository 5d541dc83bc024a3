import { done, skipped, type Processor } from '../processor';

/**
 * 'referral.expire': the partner did not answer within the SLA. Only the system moves a
 * referral to `expired`; the requester is notified and gets a follow-up to re-refer, unless the
 * person's file is closed or anonymised (the referral still expires).
 */
export const referralExpire: Processor = async ({ deadline, trx, deps }) => {
  const expired = await deps.services.referrals.expire(trx, deadline.subjectId);
  return expired ? done() : skipped('referral already answered or closed');
};
