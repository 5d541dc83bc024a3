import { Router } from 'express';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../lib/http';
import { consentParams, createConsentBody, personParams } from './consent-schemas';
import type { ConsentService } from './consent-service';

export function consentRouter(consents: ConsentService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/persons/:id/consents',
    policy: hasRole(...PERSON_ROLES),
    params: personParams,
    handler: ({ actor, params }) => consents.list(actor, params.id),
  });
  endpoint(r, {
    method: 'post',
    path: '/persons/:id/consents',
    policy: hasRole(...PERSON_ROLES),
    params: personParams,
    body: createConsentBody,
    status: 201,
    handler: ({ actor, params, body, ctx }) => consents.record(actor, params.id, body, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/consents/:id/revoke',
    policy: hasRole(...PERSON_ROLES),
    params: consentParams,
    handler: ({ actor, params, ctx }) => consents.revoke(actor, params.id, ctx),
  });
  return r;
}
