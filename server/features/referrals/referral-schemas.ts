import { z } from 'zod';
import type { BusinessCalendar } from '../../lib/calendar';
import { expectedVersion, paging, uuid } from '../../lib/validate';
import { rightCode } from '../rights/right-schemas';
import { REFERRAL_STATUSES, REJECTION_REASONS } from './referral-state';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const createReferralBody = z
  .object({
    partnerId: uuid(),
    serviceId: uuid().optional(),
    reason: text(2000),
    sharedSummary: text(4000).optional(),
    rightCode: rightCode().optional().meta({
      description: "The code of the right this referral serves, from the structure's catalogue",
    }),
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
    /**
     * A rejection reason code for `rejected`; a short free text for cancelled, on_hold, failed;
     * refused with any other target (400, code not_taken).
     */
    reason: z
      .union([
        z.enum(REJECTION_REASONS).meta({
          id: 'RejectionReason',
          description: 'The coded reason of a rejection (required with to: rejected)',
        }),
        text(500).meta({
          description: 'A short free text, required with to: cancelled, on_hold or failed',
        }),
      ])
      .meta({
        description:
          'Required with to: rejected, cancelled, on_hold or failed; refused with any other target (400 naming reason, code not_taken)',
      })
      .optional(),
    /** What the help came to, for completed or failed. */
    outcome: text(2000)
      .meta({ description: 'What the help came to; only with to: completed or failed' })
      .optional(),
    /** The version the caller saw: when given, a referral changed meanwhile answers 409. */
    version: expectedVersion('referral'),
  })
  .strict()
  .meta({
    description:
      'A move of the state machine: partner users accept, reject (with a RejectionReason), ' +
      'start, hold, complete or fail; the requester, a manager, or the active référent of the person once the requester has left cancels; only the system expires.',
  });
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
/**
 * The referent's "update the right" follow-up, at the outcome question's moment. A kind of its
 * own, not a step of the email job: the email holds its transaction through the SMTP send, and
 * planning the follow-up locks the person and the referral, which would then wait on the send;
 * a failed send would also roll the follow-up back with it.
 */
export const REFERRAL_OUTCOME_FOLLOW_UP = 'referral.outcome_follow_up';
export const REFERRAL_EXPIRE = 'referral.expire';
export const REFERRAL_REMIND_PARTNER = 'referral.remind_partner';
/**
 * A link sent again at a user's request (resendLink): the respond link while the referral is
 * requested, the outcome link while the help is under way, read when it is sent. Its own kind,
 * so a settings change keeps it at its working moment and never takes it for one of the planned
 * reminders.
 */
export const REFERRAL_RESEND_LINK = 'referral.resend_link';
export const REFERRAL_ESCALATE_REQUESTER = 'referral.escalate_requester';
/**
 * The in-app notice of that escalation, to the requester or, once they have left, to those
 * standing in for them: the daily digest counts a waiting referral for whoever it told.
 */
export const REFERRAL_ESCALATED_NOTICE = 'referral.escalated';
/**
 * The email telling the partner a referral was withdrawn (cancelled by the requester or a
 * manager, or by a consent revoked): written by the cancellation, so not among the kinds a
 * referral's closing cancels.
 */
export const REFERRAL_EMAIL_WITHDRAWN = 'referral.email_withdrawn';
/** The kinds that only make sense while the partner has not answered: cancelled when it leaves `requested`. */
export const REFERRAL_AWAITING_ANSWER_KINDS = [
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
] as const;
export const REFERRAL_DEADLINE_KINDS = [
  ...REFERRAL_AWAITING_ANSWER_KINDS,
  REFERRAL_RESEND_LINK,
  REFERRAL_ASK_OUTCOME,
  REFERRAL_OUTCOME_FOLLOW_UP,
] as const;

/** Business days a partner has before a referral expires (spec: day 10), and before the outcome question. */
const EXPIRE_AFTER_BUSINESS_DAYS = 10;
export const ASK_OUTCOME_AFTER_BUSINESS_DAYS = 10;
/**
 * The SLA of an answer (spec: 5 business days unless the service sets its own delay): a first
 * reminder to the partner at day 3, a second one with the escalation to the requester at the
 * delay's end. A delay of 3 days or less gets only the reminder at its end.
 */
export const DEFAULT_RESPONSE_DELAY_BUSINESS_DAYS = 5;
export const FIRST_REMINDER_AFTER_BUSINESS_DAYS = 3;

/**
 * When a referral expires: on day 10 (the spec's five days of grace after the default delay),
 * or, for a service with a longer delay of its own, that many days after its end, so that a
 * partner given 10 or 20 days is reminded and the requester told before the referral expires.
 */
export function expiryBusinessDays(
  responseDelay: number,
  expiry = EXPIRE_AFTER_BUSINESS_DAYS,
  defaultDelay = DEFAULT_RESPONSE_DELAY_BUSINESS_DAYS,
): number {
  return Math.max(expiry, responseDelay + expiry - defaultDelay);
}

/**
 * The moment a referral sent at `sentAt` expires: the working moment of its expiry day
 * (`expiryBusinessDays`), placed as every other deadline of it is (`calendar.nextWorkingMoment`),
 * so that with `referralExpiryDays` equal to `referralResponseDays` it falls at the moment of the
 * last reminder and the escalation, never before them. Read by the referral service and the
 * replanner.
 */
export function referralExpiresAt(
  calendar: Pick<BusinessCalendar, 'addBusinessDays' | 'nextWorkingMoment'>,
  sentAt: Date,
  responseDelay: number,
  settings: { referralExpiryDays: number; referralResponseDays: number },
): Date {
  const days = expiryBusinessDays(
    responseDelay,
    settings.referralExpiryDays,
    settings.referralResponseDays,
  );
  return calendar.nextWorkingMoment(calendar.addBusinessDays(sentAt, days));
}

/**
 * The response delay of a referral: its service's own when the service sets one, else the
 * referring structure's `referralResponseDays` (without a service too).
 */
export function responseDelayOf(
  serviceDelay: number | null | undefined,
  structureDelay: number,
): number {
  return serviceDelay ?? structureDelay;
}

/** The business days of the partner's reminders for a response delay: day 3 and the delay's end. */
export function reminderBusinessDays(responseDelay: number): number[] {
  return responseDelay > FIRST_REMINDER_AFTER_BUSINESS_DAYS
    ? [FIRST_REMINDER_AFTER_BUSINESS_DAYS, responseDelay]
    : [responseDelay];
}

/* Response bodies, for the OpenAPI document (what the repositories' views serialise to). */

const at = () => z.iso.datetime();
const nullableText = () => z.string().nullable();
const referralStatus = z.enum(REFERRAL_STATUSES).meta({ id: 'ReferralStatus' });
const named = z.object({ id: z.uuid(), name: z.string() });
/** The right a referral serves, when it names one: what a partner may know of the person's rights. */
const servedRight = z
  .object({ code: z.string(), label: z.string() })
  .strict()
  .nullable()
  .meta({ description: 'The right this referral serves, if it names one' });
/** Null on the creation event. A union, not .nullable(): the generator would AND a nullable $ref. */
const noStatus = z.union([referralStatus, z.null()]);

export const referralView = z
  .object({
    id: z.uuid(),
    personId: z.uuid(),
    person: z.object({ id: z.uuid(), displayName: z.string() }),
    partner: named,
    service: named.nullable(),
    right: servedRight,
    consentId: z.uuid(),
    requester: named.nullable(),
    status: referralStatus,
    reason: z.string(),
    sharedSummary: nullableText(),
    outcome: nullableText(),
    statusReasonCode: nullableText(),
    version: z.number().int(),
    respondedAt: at().nullable(),
    closedAt: at().nullable(),
    createdAt: at(),
    updatedAt: at(),
    events: z.array(
      z
        .object({
          id: z.uuid(),
          fromStatus: noStatus,
          toStatus: referralStatus,
          actorKind: z.enum(['user', 'link', 'system']),
          actorId: z.uuid().nullable(),
          actorName: nullableText(),
          reasonCode: nullableText(),
          note: nullableText(),
          at: at(),
        })
        .strict()
        .meta({ id: 'ReferralEvent' }),
    ),
  })
  .strict()
  .meta({
    id: 'Referral',
    description: 'A referral as workers and managers of the referring structure see it',
  });

export const partnerReferralView = z
  .object({
    id: z.uuid(),
    status: referralStatus,
    version: z.number().int(),
    structure: z.object({ name: z.string() }),
    requester: z.object({ name: z.string() }).nullable(),
    partner: named,
    service: named.nullable(),
    right: servedRight,
    person: z
      .object({
        displayName: z.string(),
        phone: nullableText().optional(),
        email: nullableText().optional(),
        address: nullableText().optional(),
      })
      .strict()
      .meta({
        description:
          'The name or alias, and only the contact details the person agreed to share with this partner',
      }),
    reason: z.string(),
    sharedSummary: nullableText(),
    outcome: nullableText(),
    createdAt: at(),
    updatedAt: at(),
    events: z.array(
      z
        .object({
          fromStatus: noStatus,
          toStatus: referralStatus,
          reasonCode: nullableText(),
          at: at(),
        })
        .strict()
        .meta({ id: 'PartnerReferralEvent' }),
    ),
  })
  .strict()
  .meta({
    id: 'PartnerReferral',
    description: 'A referral as the partner it is addressed to sees it: the referral minimum',
  });

/** What GET /referrals/:id and a move answer: the caller's view. */
export const eitherReferralView = z.union([referralView, partnerReferralView]).meta({
  description:
    'The staff view (Referral) for workers and managers, PartnerReferral for partner users',
});
