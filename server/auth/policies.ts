import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ForbiddenError, UnauthorizedError } from '../lib/errors';
import type { Actor, Role } from './actor';

/**
 * Deny by default: every route starts with a policy middleware, marked so a test can walk the
 * router and fail on any route without one.
 */
export type PolicyMiddleware = RequestHandler & { policy: string };

function mark(name: string, fn: RequestHandler): PolicyMiddleware {
  return Object.assign(fn, { policy: name });
}

/** Anyone, signed in or not (login, health, the public report form). */
export const isPublic = (): PolicyMiddleware => mark('public', (_req, _res, next) => next());

/** Any signed-in user. */
export const isAuthenticated = (): PolicyMiddleware =>
  mark('authenticated', (req, _res, next) => next(req.user ? undefined : new UnauthorizedError()));

/** Signed-in with one of these roles. */
export const hasRole = (...roles: Role[]): PolicyMiddleware =>
  mark(`role:${roles.join('|')}`, (req: Request, _res: Response, next: NextFunction) => {
    if (!req.user) return next(new UnauthorizedError());
    if (!roles.includes(req.user.role)) return next(new ForbiddenError());
    return next();
  });

export function actorOf(req: Request): Actor {
  if (!req.user) throw new UnauthorizedError();
  return req.user;
}
