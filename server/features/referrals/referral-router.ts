import { Router } from 'express';
import { z } from 'zod';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import {
  createReferralBody,
  eitherReferralView,
  listReferralsQuery,
  partnerReferralView,
  personParams,
  referralParams,
  referralView,
  transitionBody,
} from './referral-schemas';
import type { ReferralService } from './referral-service';

/** Staff of the referring structure and partner users; admins and observers see no referral. */
const REFERRAL_ROLES = [...PERSON_ROLES, 'partner'] as const;

export function referralRouter(referrals: ReferralService): Router {
  const r = Router();
  endpoint(r, {
    method: 'post',
    path: '/persons/:id/referrals',
    policy: hasRole(...PERSON_ROLES),
    params: personParams,
    body: createReferralBody,
    status: 201,
    summary:
      'Refer the person to a partner (422 without a valid referral consent for it, or a stale partner)',
    response: referralView,
    errors: [409, 422],
    idempotent: true,
    handler: ({ actor, params, body, ctx }) => referrals.create(actor, params.id, body, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/referrals',
    tokens: true,
    policy: hasRole(...REFERRAL_ROLES),
    query: listReferralsQuery,
    summary:
      "Referrals of the caller's structure; a partner user's are those addressed to it, filtered by status only (personId, partnerId or mine=true: 400)",
    response: pageOf(z.union([referralView, partnerReferralView])).meta({
      description: 'Staff get Referral items, partner users PartnerReferral items',
    }),
    handler: ({ actor, query, ctx }) => referrals.list(actor, query, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/referrals/:id',
    tokens: true,
    policy: hasRole(...REFERRAL_ROLES),
    params: referralParams,
    summary: "Read a referral, in the caller's view",
    response: eitherReferralView,
    handler: ({ actor, params, ctx }) => referrals.get(actor, params.id, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/referrals/:id/transitions',
    tokens: true,
    policy: hasRole(...REFERRAL_ROLES),
    params: referralParams,
    body: transitionBody,
    summary:
      'Move a referral through its state machine ({ to, reason?, outcome?, version? }; a reason only with rejected, cancelled, on_hold or failed: 400 reason not_taken with any other)',
    response: eitherReferralView,
    errors: [409],
    handler: ({ actor, params, body, ctx }) => referrals.transition(actor, params.id, body, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/referrals/:id/resend-link',
    policy: hasRole(...PERSON_ROLES),
    params: referralParams,
    status: 202,
    summary:
      'Send the partner a fresh signed link now, by email at the next working moment: a reminder while the referral is requested, the outcome question while accepted, in progress or on hold (the requester, a manager, or the active référent of the person once the requester has left; 422 referral_closed otherwise, reminders_off when the file gets no reminders, consent_expired when the partner may no longer see it)',
    response: z.object({
      purpose: z.enum(['respond', 'outcome']),
      dueAt: z.iso.datetime().meta({ description: 'When the email leaves (working hours)' }),
    }),
    errors: [409, 422],
    handler: ({ actor, params, ctx }) => referrals.resendLink(actor, params.id, ctx),
  });
  return r;
}
