import { Router, type Request } from 'express';
import { hasRole } from '../../auth/policies';
import { PERSON_ROLES } from '../../auth/actor';
import { endpoint } from '../../lib/http';
import type { RequestContext } from '../audit/audit-repository';
import {
  createPersonBody,
  personIdParams,
  searchPersonsQuery,
  timelineQuery,
  updatePersonBody,
} from './person-schemas';
import type { PersonService } from './person-service';
import type { TimelineService } from './timeline-service';

export const requestContext = (req: Request): RequestContext => ({ ip: req.ip ?? null });

export function personRouter(persons: PersonService, timeline: TimelineService): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);

  endpoint(r, {
    method: 'get',
    path: '/persons',
    policy: staff(),
    query: searchPersonsQuery,
    handler: ({ actor, query, req }) => persons.search(actor!, query, requestContext(req)),
  });
  endpoint(r, {
    method: 'post',
    path: '/persons',
    policy: staff(),
    body: createPersonBody,
    status: 201,
    handler: ({ actor, body, req }) => persons.create(actor!, body, requestContext(req)),
  });
  endpoint(r, {
    method: 'get',
    path: '/persons/:id',
    policy: staff(),
    params: personIdParams,
    handler: ({ actor, params, req }) => persons.get(actor!, params.id, requestContext(req)),
  });
  endpoint(r, {
    method: 'patch',
    path: '/persons/:id',
    policy: staff(),
    params: personIdParams,
    body: updatePersonBody,
    handler: ({ actor, params, body, req }) =>
      persons.update(actor!, params.id, body, requestContext(req)),
  });
  endpoint(r, {
    method: 'get',
    path: '/districts',
    policy: staff(),
    summary: "The caller's structure's districts (quartiers, with the QPV flag), unpaged",
    handler: async ({ actor }) => {
      const items = await persons.listDistricts(actor!);
      return { items, total: items.length, page: 1, pageSize: items.length };
    },
  });
  endpoint(r, {
    method: 'get',
    path: '/persons/:id/timeline',
    policy: staff(),
    params: personIdParams,
    query: timelineQuery,
    handler: ({ actor, params, query, req }) =>
      timeline.get(actor!, params.id, query.page, query.pageSize, requestContext(req)),
  });
  return r;
}
