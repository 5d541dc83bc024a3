import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { PERSON_ROLES } from '../../auth/actor';
import { endpoint } from '../../http/endpoint';
import { cappedPageOf, pageOf } from '../../lib/openapi';
import {
  createPersonBody,
  duplicateView,
  duplicatesQuery,
  mergePersonBody,
  personIdParams,
  personView,
  searchPersonsQuery,
  timelineItemView,
  timelineQuery,
  updatePersonBody,
} from './person-schemas';
import type { PersonMergeService } from './person-merge-service';
import type { PersonService } from './person-service';
import type { TimelineService } from './timeline-service';

export function personRouter(
  persons: PersonService,
  timeline: TimelineService,
  merges: PersonMergeService,
): Router {
  const r = Router();
  const staff = () => hasRole(...PERSON_ROLES);

  endpoint(r, {
    method: 'get',
    path: '/persons',
    policy: staff(),
    query: searchPersonsQuery,
    summary:
      "Search the structure's persons (q: accent- and typo-tolerant over names, alias and place; anonymised files, which have none left, are listed only without q), paged",
    response: cappedPageOf(personView),
    handler: ({ actor, query, ctx }) => persons.search(actor, query, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/persons',
    policy: staff(),
    body: createPersonBody,
    status: 201,
    summary: 'Create a person file: an alias or a name is required',
    response: personView,
    idempotent: true,
    handler: ({ actor, body, ctx }) => persons.create(actor, body, ctx),
  });
  // Before /persons/:id, which would take "duplicates" for an id.
  endpoint(r, {
    method: 'get',
    path: '/persons/duplicates',
    policy: staff(),
    query: duplicatesQuery,
    summary:
      "Possible duplicates in the caller's structure, best first, each with why it matched (name, alias, place: accent- and typo-tolerant; phone; birth year)",
    response: pageOf(duplicateView),
    handler: ({ actor, query, ctx }) => merges.duplicates(actor, query, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/persons/:id',
    policy: staff(),
    params: personIdParams,
    summary: 'A person file with its derived path status',
    response: personView,
    handler: ({ actor, params, ctx }) => persons.get(actor, params.id, ctx),
  });
  endpoint(r, {
    method: 'patch',
    path: '/persons/:id',
    policy: staff(),
    params: personIdParams,
    body: updatePersonBody,
    summary:
      'Change a person file with the version read (409 with the current file if stale, or anonymised)',
    response: personView,
    errors: [409],
    handler: ({ actor, params, body, ctx }) => persons.update(actor, params.id, body, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/persons/:id/merge',
    policy: hasRole('manager'),
    params: personIdParams,
    body: mergePersonBody,
    summary:
      'Merge file :id into intoId (both versions checked, 409 with both files if stale); everything moves to the kept file, :id then answers 404',
    response: personView,
    errors: [409],
    handler: ({ actor, params, body, ctx }) => merges.merge(actor, params.id, body, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/persons/:id/timeline',
    policy: staff(),
    params: personIdParams,
    query: timelineQuery,
    summary:
      'Contacts, follow-ups, referrals and right changes of a person, and the reports triaged into the file, newest first',
    response: pageOf(timelineItemView),
    handler: ({ actor, params, query, ctx }) =>
      timeline.get(actor, params.id, query.page, query.pageSize, ctx),
  });
  return r;
}
