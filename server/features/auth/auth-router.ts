import { Router } from 'express';
import { z } from 'zod';
import { isAuthenticated, isPublic } from '../../auth/policies';
import { logIn, logOut } from '../../auth/login';
import { endpoint } from '../../http/endpoint';
import { plainString } from '../../lib/validate';
import type { AuthService } from './auth-service';
import { preferencesBody, type UserPreferenceService } from '../users/user-preference-service';

export const loginBody = z
  .object({
    email: plainString().trim().min(1, 'is required').max(254),
    password: z.string().min(1, 'is required').max(1024),
    /** The second factor's code (6 digits) or a recovery code, for an account that has one. */
    totp: plainString().trim().min(1, 'is required').max(32).optional(),
  })
  .strict();

export function authRouter(auth: AuthService, preferences: UserPreferenceService): Router {
  const r = Router();
  endpoint(r, {
    method: 'post',
    path: '/session',
    policy: isPublic(),
    body: loginBody,
    summary:
      'Log in; an account with a second factor sends `totp` too (401 totp_required without it, totp_invalid when wrong or already used)',
    handler: async ({ body, req }) => {
      const user = await auth.authenticate(
        body.email,
        body.password,
        req.ip ?? 'unknown',
        body.totp,
      );
      await logIn(req, user);
      return { user: auth.toActor(user) };
    },
  });
  endpoint(r, {
    method: 'delete',
    path: '/session',
    policy: isPublic(),
    handler: async ({ req }) => {
      await logOut(req);
      return undefined;
    },
  });
  endpoint(r, {
    method: 'get',
    path: '/me',
    policy: isAuthenticated(),
    handler: async ({ actor }) => ({ user: actor }),
  });
  endpoint(r, {
    method: 'get',
    path: '/me/preferences',
    policy: isAuthenticated(),
    summary: "The caller's own preferences (the daily digest by email or not)",
    handler: ({ actor }) => preferences.get(actor),
  });
  endpoint(r, {
    method: 'patch',
    path: '/me/preferences',
    policy: isAuthenticated(),
    body: preferencesBody,
    summary: "Changes the caller's own preferences",
    handler: ({ actor, body }) => preferences.update(actor, body),
  });
  return r;
}
