import { Router } from 'express';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import {
  consentParams,
  consentView,
  createConsentBody,
  personParams,
  revokedConsentView,
} from './consent-schemas';
import type { ConsentService } from './consent-service';

export function consentRouter(consents: ConsentService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/persons/:id/consents',
    policy: hasRole(...PERSON_ROLES),
    params: personParams,
    summary: "The person's consents, newest first, with their current validity",
    response: pageOf(consentView),
    handler: ({ actor, params, ctx }) => consents.list(actor, params.id, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/persons/:id/consents',
    policy: hasRole(...PERSON_ROLES),
    params: personParams,
    body: createConsentBody,
    status: 201,
    summary: 'Record a consent (a referral consent names its partner and what it shares)',
    response: consentView,
    errors: [409, 422],
    idempotent: true,
    handler: ({ actor, params, body, ctx }) => consents.record(actor, params.id, body, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/consents/:id/revoke',
    policy: hasRole(...PERSON_ROLES),
    params: consentParams,
    summary:
      "Revoke a consent: for referrals, the person's consents for that partner and their open referrals to it",
    response: revokedConsentView,
    errors: [409],
    handler: ({ actor, params, ctx }) => consents.revoke(actor, params.id, ctx),
  });
  return r;
}
