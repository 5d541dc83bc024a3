import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { PERSON_ROLES } from '../../auth/actor';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import {
  contactView,
  createContactBody,
  listContactsQuery,
  loggedContactView,
  personParams,
} from './contact-schemas';
import type { ContactService } from './contact-service';

export function contactRouter(contacts: ContactService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/persons/:id/contacts',
    policy: hasRole(...PERSON_ROLES),
    params: personParams,
    query: listContactsQuery,
    summary: "A person's contacts, newest first (a private note only to its author)",
    response: pageOf(contactView),
    handler: ({ actor, params, query, ctx }) =>
      contacts.list(actor, params.id, query.page, query.pageSize, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/persons/:id/contacts',
    policy: hasRole(...PERSON_ROLES),
    params: personParams,
    body: createContactBody,
    status: 201,
    summary: 'Log a contact attempt; nextFollowUpAt plans a follow-up with it',
    response: loggedContactView,
    errors: [409],
    idempotent: true,
    handler: ({ actor, params, body, ctx }) => contacts.log(actor, params.id, body, ctx),
  });
  return r;
}
