import { z } from 'zod';
import { paging, uuid } from '../../lib/validate';
import { REFERRAL_STATUSES } from './referral-state';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const createReferralBody = z
  .object({
    partnerId: uuid(),
    serviceId: uuid().optional(),
    reason: text(2000),
    sharedSummary: text(4000).optional(),
  })
  .strict();
export type CreateReferralInput = z.infer<typeof createReferralBody>;

const TARGETS = REFERRAL_STATUSES.filter((s) => s !== 'requested') as [
  Exclude<(typeof REFERRAL_STATUSES)[number], 'requested'>,
  ...Exclude<(typeof REFERRAL_STATUSES)[number], 'requested'>[],
];
export type TransitionTarget = (typeof TARGETS)[number];

export const transitionBody = z
  .object({
    to: z.enum(TARGETS, { message: 'must be one of ' + TARGETS.join(', ') }),
    /** A rejection reason code for `rejected`; a short free text for cancelled, on_hold, failed. */
    reason: text(500).optional(),
    /** What the help came to, for completed or failed. */
    outcome: text(2000).optional(),
    /** The version the caller saw: when given, a referral changed meanwhile answers 409. */
    version: z.number().int().min(1).optional(),
  })
  .strict();
export type TransitionInput = z.infer<typeof transitionBody>;

export const listReferralsQuery = z
  .object({
    mine: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    status: z.enum(REFERRAL_STATUSES).optional(),
    personId: uuid().optional(),
    partnerId: uuid().optional(),
    ...paging,
  })
  .strict();
export type ListReferralsQuery = z.infer<typeof listReferralsQuery>;

export const referralParams = z.object({ id: uuid() }).strict();
export const personParams = z.object({ id: uuid() }).strict();

/** Deadline kinds written by referrals into the outbox. */
export const REFERRAL_EMAIL_PARTNER = 'referral.email_partner';
export const REFERRAL_ASK_OUTCOME = 'referral.ask_outcome';
export const REFERRAL_EXPIRE = 'referral.expire';
export const REFERRAL_REMIND_PARTNER = 'referral.remind_partner';
export const REFERRAL_ESCALATE_REQUESTER = 'referral.escalate_requester';
/** The kinds that only make sense while the partner has not answered: cancelled when it leaves `requested`. */
export const REFERRAL_AWAITING_ANSWER_KINDS = [
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
] as const;
export const REFERRAL_DEADLINE_KINDS = [
  ...REFERRAL_AWAITING_ANSWER_KINDS,
  REFERRAL_ASK_OUTCOME,
] as const;

/** Business days a partner has before a referral expires (spec: day 10), and before the outcome question. */
export const EXPIRE_AFTER_BUSINESS_DAYS = 10;
export const ASK_OUTCOME_AFTER_BUSINESS_DAYS = 10;
/**
 * The SLA of an answer (spec: 5 business days unless the service sets its own delay): a first
 * reminder to the partner at day 3, a second one with the escalation to the requester at the
 * delay's end. A delay of 3 days or less gets only the reminder at its end.
 */
export const DEFAULT_RESPONSE_DELAY_BUSINESS_DAYS = 5;
export const FIRST_REMINDER_AFTER_BUSINESS_DAYS = 3;
