import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import {
  createPartnerBody,
  listPartnersQuery,
  partnerParams,
  partnerServiceParams,
  partnerView,
  saveServiceBody,
  serviceInput,
  updatePartnerBody,
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
    summary:
      'Add a partner and its services to the directory; the admin’s structure owns it (only its admins may change it)',
    response: partnerView,
    errors: [409],
    idempotent: true,
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
  // The service layer replaces a description whole (an optional field left out is cleared),
  // so edits are PUT, as the admin pages do; each answers the partner with all its services.
  // Reads are the whole directory; every change is scoped to the partner's owning structure
  // (in the repository's WHERE), another structure's partner answering 404 like an unknown id.
  endpoint(r, {
    method: 'put',
    path: '/partners/:id',
    policy: hasRole('admin'),
    params: partnerParams,
    body: updatePartnerBody,
    summary:
      'Replace a partner’s description (an optional field left out is cleared); counts as a review. A new email is only pending (`pendingEmail`) until confirmed from that address through an emailed link; every email still goes to the confirmed one. Admins of the owning structure only: 404 for another structure’s partner, as for an unknown one; 409 if it changed since `version`',
    response: partnerView,
    errors: [409],
    handler: async ({ actor, params, body, ctx }) =>
      (await partners.update(actor, params.id, body, ctx)).partner,
  });
  endpoint(r, {
    method: 'delete',
    path: '/partners/:id/pending-email',
    policy: hasRole('admin'),
    params: partnerParams,
    summary:
      'Withdraw the new email waiting for confirmation (`pendingEmail`): its link stops working at once, and every email keeps going to the confirmed address. Nothing pending changes nothing. Owning structure’s admins only (404 otherwise)',
    response: partnerView,
    handler: async ({ actor, params, ctx }) =>
      (await partners.withdrawEmailChange(actor, params.id, ctx)).partner,
  });
  endpoint(r, {
    method: 'post',
    path: '/partners/:id/services',
    policy: hasRole('admin'),
    params: partnerParams,
    body: serviceInput,
    status: 201,
    summary:
      'Add a service to a partner (409 if another of its services has the name); answers the partner. Owning structure’s admins only (404 otherwise)',
    response: partnerView,
    errors: [409],
    handler: ({ actor, params, body, ctx }) =>
      partners.saveService(actor, params.id, null, body, ctx),
  });
  endpoint(r, {
    method: 'put',
    path: '/partners/:id/services/:serviceId',
    policy: hasRole('admin'),
    params: partnerServiceParams,
    body: saveServiceBody,
    summary:
      'Replace a service’s description (409 if another service of the partner has the name, or if the service changed since `version`); counts as its review. Owning structure’s admins only (404 otherwise)',
    response: partnerView,
    errors: [409],
    handler: ({ actor, params, body, ctx }) =>
      partners.saveService(actor, params.id, params.serviceId, body, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/partners/:id/review',
    policy: hasRole('admin'),
    params: partnerParams,
    summary:
      'Confirm the partner and its services are still described right (no longer stale). Owning structure’s admins only (404 otherwise)',
    response: partnerView,
    handler: ({ actor, params, ctx }) => partners.review(actor, params.id, ctx),
  });
  return r;
}
