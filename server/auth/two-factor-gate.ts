import type { RequestHandler } from 'express';
import { ForbiddenError } from '../lib/errors';
import type { Actor } from './actor';

/** Where a user who must enrol may still go: logging in and out, who am I, the enrolment, the docs. */
const API_OPEN = /^\/(session|me|me\/two-factor(\/.*)?|docs)\/?$/;
const PAGES_OPEN =
  /^\/(connexion(\/.*)?|deconnexion|mon-compte\/double-authentification(\/.*)?)\/?$/;

/** The enrolment page a user who must enrol is sent to. */
export const ENROL_PAGE = '/mon-compte/double-authentification';

/**
 * When the structure requires a second factor of managers and admins, such a user without one is
 * signed in by their password but may do nothing else until enrolled: the API answers 403
 * `two_factor_enrolment_required`, the pages send them to the enrolment page.
 */
export function twoFactorGate(
  mustEnrol: (actor: Actor) => Promise<boolean>,
  mode: 'api' | 'pages',
): RequestHandler {
  return async (req, res, next) => {
    if (!req.user || req.authVia === 'token') return next();
    if ((mode === 'api' ? API_OPEN : PAGES_OPEN).test(req.path)) return next();
    if (!(await mustEnrol(req.user))) return next();
    if (mode === 'api')
      return next(
        new ForbiddenError(
          'Your structure requires two-factor authentication: enrol first (POST /api/me/two-factor)',
          'two_factor_enrolment_required',
        ),
      );
    return res.redirect(303, ENROL_PAGE);
  };
}
