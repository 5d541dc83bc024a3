import { Router } from 'express';
import { z } from 'zod';
import { hasRole, isPublic } from '../../auth/policies';
import { pageOf } from '../../lib/openapi';
import { endpoint } from '../../http/endpoint';
import {
  inviteUserBody,
  listUsersQuery,
  passwordResetBody,
  setPasswordBody,
  updateUserBody,
  userIdParams,
  userView,
} from './user-schemas';
import type { UserService } from './user-service';

/** Users of the structure, managed by its admins; the forgotten-password request is public. */
export function userRouter(users: UserService): Router {
  const r = Router();
  const admin = () => hasRole('admin');
  endpoint(r, {
    method: 'get',
    path: '/users',
    policy: admin(),
    query: listUsersQuery,
    summary: "The structure's users with their role and teams (filters: role, partnerId, disabled)",
    response: pageOf(userView),
    handler: ({ actor, query }) => users.list(actor, query),
  });
  endpoint(r, {
    method: 'get',
    path: '/users/:id',
    policy: admin(),
    params: userIdParams,
    summary: 'One user of the structure',
    response: userView,
    handler: ({ actor, params }) => users.get(actor, params.id),
  });
  endpoint(r, {
    method: 'post',
    path: '/users',
    policy: admin(),
    body: inviteUserBody,
    status: 201,
    summary:
      'Invite a user: an email with a set-password link (48 h, single use) is sent; 409 if the address is taken (with `details.userId` and `details.disabled` when it is a user of your structure)',
    response: userView,
    errors: [409, 422],
    idempotent: true,
    handler: ({ actor, body, ctx }) => users.invite(actor, body, ctx),
  });
  endpoint(r, {
    method: 'patch',
    path: '/users/:id',
    policy: admin(),
    params: userIdParams,
    body: updateUserBody,
    summary:
      'Change name, role, teams or disabled (disabling or a new role ends their sessions; 422 for a team a disabled user does not hold, or `last_admin` when no other enabled admin would remain; 409 if the user changed since `version`)',
    response: userView,
    errors: [409, 422],
    handler: async ({ actor, params, body, ctx }) =>
      (await users.update(actor, params.id, body, ctx)).user,
  });
  endpoint(r, {
    method: 'post',
    path: '/users/:id/password-link',
    policy: admin(),
    params: userIdParams,
    status: 202,
    summary: 'Send a new set-password link (the older ones stop working)',
    response: z.object({ expiresAt: z.iso.datetime() }),
    errors: [422],
    handler: ({ actor, params, ctx }) => users.sendPasswordLink(actor, params.id, ctx),
  });
  endpoint(r, {
    method: 'post',
    path: '/password-reset',
    policy: isPublic(),
    body: passwordResetBody,
    status: 202,
    summary:
      'A forgotten password: a link is emailed if the address is an active account (an invitation again while no password was ever set); the same answer either way; throttled',
    response: z.object({ status: z.literal('accepted') }),
    errors: [429],
    handler: async ({ body, req }) => {
      await users.requestReset(body.email, req.ip ?? 'unknown');
      return { status: 'accepted' as const };
    },
  });
  endpoint(r, {
    method: 'post',
    path: '/password-links/use',
    policy: isPublic(),
    body: setPasswordBody,
    summary:
      "Set a password with a link's token: 404 unknown or replaced link, 422 used or expired (both checked before the password), 400 for a refused password (the link stays usable); 429 with Retry-After when an address tried too often",
    response: z.object({ status: z.literal('password_set') }),
    errors: [404, 422, 429],
    handler: async ({ body, req }) => {
      await users.setPassword(body.token, body.password, req.ip ?? 'unknown');
      return { status: 'password_set' as const };
    },
  });
  return r;
}
