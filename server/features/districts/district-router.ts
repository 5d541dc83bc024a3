import { Router } from 'express';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import { pageOf } from '../../lib/openapi';
import { endpoint } from '../../http/endpoint';
import {
  createDistrictBody,
  districtIdParams,
  districtView,
  listDistrictsQuery,
  updateDistrictBody,
} from './district-schemas';
import type { DistrictService } from './district-service';

/** Districts: admins write, staff (for the person fields and filters) and admins read. */
export function districtRouter(districts: DistrictService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/districts',
    policy: hasRole(...PERSON_ROLES, 'admin'),
    query: listDistrictsQuery,
    summary:
      "The caller's structure's districts (quartiers, with the QPV flag): bounded reference data, whole on one page",
    response: pageOf(districtView),
    handler: ({ actor, query }) => districts.list(actor, query),
  });
  endpoint(r, {
    method: 'post',
    path: '/districts',
    policy: hasRole('admin'),
    body: createDistrictBody,
    status: 201,
    summary: 'Add a district (409 if the structure already has one of this name)',
    response: districtView,
    errors: [409],
    idempotent: true,
    handler: ({ actor, body, ctx }) => districts.create(actor, body, ctx),
  });
  endpoint(r, {
    method: 'patch',
    path: '/districts/:id',
    policy: hasRole('admin'),
    params: districtIdParams,
    body: updateDistrictBody,
    summary:
      'Rename a district, set its code or QPV flag, archive or restore it (never deleted: persons name it); 409 if the name is taken or the version stale',
    response: districtView,
    errors: [409],
    handler: ({ actor, params, body, ctx }) => districts.update(actor, params.id, body, ctx),
  });
  return r;
}
