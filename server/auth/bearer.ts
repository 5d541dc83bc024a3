import type { RequestHandler } from 'express';
import { UnauthorizedError } from '../lib/errors';
import type { Actor } from './actor';

const BEARER = /^Bearer[ ]+(\S+)\s*$/i;

/**
 * API-token authentication for the JSON API. A request with `Authorization: Bearer <token>` is
 * authenticated by the token alone, whatever cookie it carries, and marked `authVia = 'token'`:
 * the endpoints then let it through only where they accept tokens (`tokens: true`), and the
 * same-origin check does not apply (no cookie is involved, so no CSRF). A wrong token is a 401.
 */
export function bearerAuth(
  authenticate: (token: string, ip: string) => Promise<Actor>,
): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (header === undefined) {
      if (req.user) req.authVia = 'session';
      return next();
    }
    const match = BEARER.exec(header);
    res.set('WWW-Authenticate', 'Bearer realm="aller-vers"');
    if (!match)
      return next(
        new UnauthorizedError('Send the token as "Authorization: Bearer <token>"', 'invalid_token'),
      );
    req.user = await authenticate(match[1], req.ip ?? 'unknown');
    req.authVia = 'token';
    res.removeHeader('WWW-Authenticate');
    return next();
  };
}
