import { Router } from 'express';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import { pageOf } from '../../lib/openapi';
import { endpoint } from '../../http/endpoint';
import {
  createRightBody,
  listRightsQuery,
  personIdParams,
  personRightParams,
  personRightView,
  rightCodeParams,
  rightView,
  setPersonRightBody,
  updateRightBody,
} from './right-schemas';
import type { RightService } from './right-service';

/**
 * The catalogue: admins write, staff and admins read. A person's rights: workers and managers
 * only; partners and observers see no right (a partner sees the one a referral names, in it).
 */
export function rightRouter(rights: RightService): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);

  endpoint(r, {
    method: 'get',
    path: '/rights',
    policy: hasRole(...PERSON_ROLES, 'admin'),
    query: listRightsQuery,
    summary: "The structure's catalogue of rights and aids, national rights first",
    response: pageOf(rightView),
    handler: ({ actor, query }) => rights.catalogue(actor, query),
  });
  endpoint(r, {
    method: 'post',
    path: '/rights',
    policy: hasRole('admin'),
    body: createRightBody,
    status: 201,
    summary: 'Add a local aid to the catalogue (409 if the code is taken)',
    response: rightView,
    errors: [409],
    idempotent: true,
    handler: ({ actor, body, ctx }) => rights.create(actor, body, ctx),
  });
  endpoint(r, {
    method: 'patch',
    path: '/rights/:code',
    policy: hasRole('admin'),
    params: rightCodeParams,
    body: updateRightBody,
    summary: 'Rename, archive or restore a right (never deleted: persons and referrals name it)',
    response: rightView,
    errors: [409],
    handler: ({ actor, params, body, ctx }) => rights.update(actor, params.code, body, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/persons/:id/rights',
    policy: staff(),
    params: personIdParams,
    summary: "A person's tracked rights, each with its history",
    response: pageOf(personRightView),
    handler: ({ actor, params, ctx }) => rights.forPerson(actor, params.id, ctx),
  });
  endpoint(r, {
    method: 'put',
    path: '/persons/:id/rights/:code',
    policy: staff(),
    params: personRightParams,
    body: setPersonRightBody,
    summary:
      "Set a person's right: unknown code 404, archived right the person does not track yet 422 (one tracked stays updatable), stale version 409 with the current state",
    response: personRightView,
    errors: [409, 422],
    handler: ({ actor, params, body, ctx }) =>
      rights.setForPerson(actor, params.id, params.code, body, ctx),
  });
  return r;
}
