import { Router } from 'express';
import { PERSON_ROLES } from '../../auth/actor';
import { hasRole } from '../../auth/policies';
import { pageOf } from '../../lib/openapi';
import { endpoint } from '../../http/endpoint';
import { createTeamBody, teamIdParams, teamView, updateTeamBody } from './team-schemas';
import type { TeamService } from './team-service';

/** Teams: admins write, staff (workers, managers) and admins read. */
export function teamRouter(teams: TeamService): Router {
  const r = Router();
  const readers = () => hasRole(...PERSON_ROLES, 'admin');
  endpoint(r, {
    method: 'get',
    path: '/teams',
    policy: readers(),
    summary: "The structure's teams with their members and the managers who lead them",
    response: pageOf(teamView),
    handler: ({ actor }) => teams.list(actor),
  });
  endpoint(r, {
    method: 'get',
    path: '/teams/:id',
    policy: readers(),
    params: teamIdParams,
    summary: 'One team (404 outside your structure)',
    response: teamView,
    handler: ({ actor, params }) => teams.get(actor, params.id),
  });
  endpoint(r, {
    method: 'post',
    path: '/teams',
    policy: hasRole('admin'),
    body: createTeamBody,
    status: 201,
    summary:
      'Create a team (409 if the name is taken; 422 for a disabled or foreign user, or a non-manager as manager)',
    response: teamView,
    errors: [409, 422],
    idempotent: true,
    handler: ({ actor, body, ctx }) => teams.create(actor, body, ctx),
  });
  endpoint(r, {
    method: 'patch',
    path: '/teams/:id',
    policy: hasRole('admin'),
    params: teamIdParams,
    body: updateTeamBody,
    summary: 'Rename a team or replace its members or managers (each list given replaces the old)',
    response: teamView,
    errors: [409, 422],
    handler: ({ actor, params, body, ctx }) => teams.update(actor, params.id, body, ctx),
  });
  return r;
}
