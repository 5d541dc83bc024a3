import type { RequestHandler } from 'express';
import { ForbiddenError } from '../lib/errors';

/**
 * CSRF defence for cookie-authenticated API calls, and for the public report form (which has no
 * session to hold a token): a state-changing request sent by a browser from another site is
 * refused (Sec-Fetch-Site, then Origin). API-token calls are exempt.
 */
export function sameOriginForStateChanges(
  publicUrl: string,
): RequestHandler & { csrfDefence: 'same-origin' } {
  const allowed = new URL(publicUrl).origin;
  const check: RequestHandler = (req, _res, next) => {
    // A Bearer request carries no cookie a foreign site could ride on.
    if (req.authVia === 'token') return next();
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    const site = req.get('sec-fetch-site');
    if (site && site !== 'same-origin' && site !== 'none')
      return next(new ForbiddenError('Cross-site request refused'));
    const origin = req.get('origin');
    if (origin && origin !== allowed && origin !== `${req.protocol}://${req.get('host')}`) {
      return next(new ForbiddenError('Cross-site request refused'));
    }
    return next();
  };
  // Marked, so the route walk that checks every form's CSRF defence recognises it.
  return Object.assign(check, { csrfDefence: 'same-origin' as const });
}
