import type { PartnerEmailKind } from '../../server/features/referrals/referral-emails';
import type { Processor } from '../processor';

/**
 * One email to the partner with a signed, single-purpose link, at least once with a dedupe key
 * (the rule: referral-link-service `sendPartnerEmail`).
 */
const partnerLinkEmail =
  (kind: PartnerEmailKind | 'resend'): Processor =>
  ({ deadline, trx, deps, now }) =>
    deps.services.referralLinks.sendPartnerEmail(kind, trx, deadline, now);

/** 'referral.email_partner': the respond link. */
export const referralEmailPartner = partnerLinkEmail('respond');
/** 'referral.remind_partner': the respond link again, at the SLA's reminder days. */
export const referralRemindPartner = partnerLinkEmail('remind');
/**
 * 'referral.ask_outcome', 10 business days after the partner accepted (spec section 3, closing
 * the loop): the outcome question to the partner. The referent's follow-up is the sibling kind
 * 'referral.outcome_follow_up' (outcome-follow-up.ts), due at the same moment.
 */
export const referralAskOutcome = partnerLinkEmail('outcome');
/**
 * 'referral.resend_link': a link a user sent again, at the next working moment: the reminder
 * while the referral is requested, the outcome question while the help is under way.
 */
export const referralResendLink = partnerLinkEmail('resend');
