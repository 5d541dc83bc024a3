import { Router } from 'express';
import { z } from 'zod';
import { isAuthenticated, isPublic } from '../../auth/policies';
import { logIn, logOut } from '../../auth/login';
import { endpoint } from '../../http/endpoint';
import { plainString } from '../../lib/validate';
import type { AuthService } from './auth-service';

export const loginBody = z
  .object({
    email: plainString().trim().min(1, 'is required').max(254),
    password: z.string().min(1, 'is required').max(1024),
  })
  .strict();

export function authRouter(auth: AuthService): Router {
  const r = Router();
  endpoint(r, {
    method: 'post',
    path: '/session',
    policy: isPublic(),
    body: loginBody,
    handler: async ({ body, req }) => {
      const user = await auth.authenticate(body.email, body.password, req.ip ?? 'unknown');
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
  return r;
}
