import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../lib/http';
import { pageOf } from '../../lib/openapi';
import {
  createPartnerBody,
  listPartnersQuery,
  partnerParams,
  partnerView,
} from './partner-schemas';
import type { PartnerDirectory } from './partner-service';

export function partnerRouter(partners: PartnerDirectory): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/partners',
    policy: hasRole('worker', 'manager', 'admin'),
    query: listPartnersQuery,
    summary: 'The partner directory (offerable=true: only what can receive a new referral)',
    response: pageOf(partnerView),
    handler: ({ query }) => partners.list(query),
  });
  endpoint(r, {
    method: 'post',
    path: '/partners',
    policy: hasRole('admin'),
    body: createPartnerBody,
    status: 201,
    summary: 'Add a partner and its services to the directory',
    response: partnerView,
    handler: ({ actor, body, ctx }) => partners.create(actor, body, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/partners/:id',
    policy: hasRole('worker', 'manager', 'admin'),
    params: partnerParams,
    summary: 'A partner of the directory',
    response: partnerView,
    handler: ({ params }) => partners.get(params.id),
  });
  endpoint(r, {
    method: 'post',
    path: '/partners/:id/review',
    policy: hasRole('admin'),
    params: partnerParams,
    summary: 'Confirm the partner and its services are still described right (no longer stale)',
    response: partnerView,
    handler: ({ actor, params, ctx }) => partners.review(actor, params.id, ctx),
  });
  return r;
}
