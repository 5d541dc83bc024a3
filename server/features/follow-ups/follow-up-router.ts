import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { PERSON_ROLES } from '../../auth/actor';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import { personIdParams } from '../persons/person-schemas';
import {
  createFollowUpBody,
  followUpParams,
  followUpView,
  reassignedView,
  listFollowUpsQuery,
  reassignFollowUpsBody,
  updateFollowUpBody,
} from './follow-up-schemas';
import type { FollowUpService } from './follow-up-service';

export function followUpRouter(followUps: FollowUpService): Router {
  const r = Router();
  endpoint(r, {
    method: 'post',
    path: '/persons/:id/follow-ups',
    policy: hasRole(...PERSON_ROLES),
    params: personIdParams,
    body: createFollowUpBody,
    status: 201,
    summary:
      'Plan a follow-up for the caller or another active worker or manager of the structure (422 assignee_unavailable otherwise)',
    response: followUpView,
    errors: [409, 422],
    idempotent: true,
    handler: ({ actor, params, body, ctx }) => followUps.plan(actor, params.id, body, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/follow-ups',
    policy: hasRole(...PERSON_ROLES),
    summary:
      "Open follow-ups unless status says otherwise (overdue=true: open and past due, false: open and not due yet). Workers list their own (assignee=me) or one person's (personId); the team backlog is for managers (403)",
    query: listFollowUpsQuery,
    response: pageOf(followUpView),
    handler: ({ actor, query, ctx }) => followUps.list(actor, query, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/follow-ups/reassign',
    policy: hasRole('manager'),
    body: reassignFollowUpsBody,
    summary:
      "Manager: move the selected open follow-ups (ids), or all of a colleague's (fromAssigneeId, with referents: true their référent files too), to another active worker of the structure (422 otherwise); the deadlines follow and the new assignee is notified",
    response: reassignedView,
    errors: [409, 422],
    handler: ({ actor, body, ctx }) => followUps.reassign(actor, body, ctx),
  });
  endpoint(r, {
    method: 'patch',
    path: '/follow-ups/:id',
    policy: hasRole(...PERSON_ROLES),
    params: followUpParams,
    body: updateFollowUpBody,
    summary:
      'Complete, cancel, reopen, reschedule or reassign a follow-up (409 if stale or already closed). A reassignment follows the bulk move: to an active worker or manager of the structure (422 assignee_unavailable otherwise), audited as follow_up.reassign, the new assignee notified; its current assignee sent back is no reassignment and is not checked',
    response: followUpView,
    errors: [409, 422],
    handler: ({ actor, params, body, ctx }) => followUps.update(actor, params.id, body, ctx),
  });
  return r;
}
