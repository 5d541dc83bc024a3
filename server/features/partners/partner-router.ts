import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../lib/http';
import { createPartnerBody, listPartnersQuery, partnerParams } from './partner-schemas';
import type { PartnerDirectory } from './partner-service';

export function partnerRouter(partners: PartnerDirectory): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/partners',
    policy: hasRole('worker', 'manager', 'admin'),
    query: listPartnersQuery,
    handler: ({ query }) => partners.list(query),
  });
  endpoint(r, {
    method: 'post',
    path: '/partners',
    policy: hasRole('admin'),
    body: createPartnerBody,
    status: 201,
    handler: ({ actor, body, ctx }) => partners.create(actor, body, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/partners/:id',
    policy: hasRole('worker', 'manager', 'admin'),
    params: partnerParams,
    handler: ({ params }) => partners.get(params.id),
  });
  endpoint(r, {
    method: 'post',
    path: '/partners/:id/review',
    policy: hasRole('admin'),
    params: partnerParams,
    handler: ({ actor, params, ctx }) => partners.review(actor, params.id, ctx),
  });
  return r;
}
