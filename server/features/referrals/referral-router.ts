import { Router } from 'express';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../lib/http';
import {
  createReferralBody,
  listReferralsQuery,
  personParams,
  referralParams,
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
    handler: ({ actor, params, body, ctx }) => referrals.create(actor, params.id, body, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/referrals',
    policy: hasRole(...REFERRAL_ROLES),
    query: listReferralsQuery,
    handler: ({ actor, query, ctx }) => referrals.list(actor, query, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/referrals/:id',
    policy: hasRole(...REFERRAL_ROLES),
    params: referralParams,
    handler: ({ actor, params, ctx }) => referrals.get(actor, params.id, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/referrals/:id/transitions',
    policy: hasRole(...REFERRAL_ROLES),
    params: referralParams,
    body: transitionBody,
    handler: ({ actor, params, body, ctx }) => referrals.transition(actor, params.id, body, ctx),
  });
  return r;
}
