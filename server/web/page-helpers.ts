import type { Request, Response } from 'express';
import { z } from 'zod';
import { PERSON_ROLES } from '../auth/actor';
import { hasRole } from '../auth/policies';
import type { RequestContext } from '../features/audit/audit-trail';
import { idempotencyKey } from '../features/idempotency/idempotency-schemas';
import { requestContext } from '../http/request-context';
import { NotFoundError } from '../lib/errors';
import type { Page } from '../lib/validate';
import { ONCE_KEY_FIELD } from './views/components';
import type { Flash } from './views/layout';

// The signed-in user, or a 401 that the HTML error handler turns into the login redirect.
export { actorOf } from '../auth/policies';

const uuid = z.uuid();

/** Page paths carry ids; a malformed one is a page that does not exist, not a 400. */
export function idOf(req: Request, name = 'id'): string {
  const res = uuid.safeParse(req.params[name]);
  if (!res.success) throw new NotFoundError('Page');
  return res.data;
}

/**
 * The request context of a creation form's post, with the form's one-time key (`OnceKey`) for
 * the service: a repeat of the post creates nothing and answers as the first. A page of before
 * the field, or a value that is no key, sends none: the creation is made as it always was.
 */
export function creationContext(req: Request): RequestContext {
  const key = (req.body as Record<string, unknown> | undefined)?.[ONCE_KEY_FIELD];
  const rc = requestContext(req);
  return idempotencyKey.safeParse(key).success ? { ...rc, idempotencyKey: key as string } : rc;
}

/**
 * POST/redirect/GET: a reload never submits twice; 303 turns the next request into a GET.
 * The session is saved before the redirect is sent: express-session would otherwise send the
 * headers first, and the browser's next request could read the session without the message.
 */
export function redirect(req: Request, res: Response, to: string, flash?: Flash): Promise<void> {
  if (!flash || !req.session) {
    res.redirect(303, to);
    return Promise.resolve();
  }
  req.session.flash = flash;
  return saveAndRedirect(req, res, to);
}

/** Saves what the handler put in the session, then redirects (303), with no message. */
export function saveAndRedirect(req: Request, res: Response, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.save((err) => {
      if (err) return reject(err);
      res.redirect(303, to);
      return resolve();
    });
  });
}

/**
 * A page number past the last page of a list (it shrank since the link was made: the last
 * follow-up of page 2 done from page 2) redirects (303) to the last page, or to the first when
 * the list is empty: the page would otherwise show nothing, with no page links back. A message
 * the page was about to show goes along. Returns whether it redirected.
 */
export async function redirectPastLastPage(
  req: Request,
  res: Response,
  list: Pick<Page<unknown>, 'page' | 'total' | 'pageSize'>,
  href: (page: number) => string,
  flash?: Flash | null,
): Promise<boolean> {
  const last = Math.max(1, Math.ceil(list.total / list.pageSize));
  if (list.page <= last) return false;
  await redirect(req, res, href(last), flash ?? undefined);
  return true;
}

/** Pages of person files: the roles that work on them. */
export const staff = () => hasRole(...PERSON_ROLES);

/**
 * Long lists come in pages: "Mes actions", a person's open follow-ups, the partner inbox and
 * /orientations (the API's largest page).
 */
export const LIST_PAGE_SIZE = 100;

/** A page number is the only parameter of a paged page; anything else is not a page here. */
export const pageQuery = z
  .object({ page: z.coerce.number().int().min(1).max(100000).default(1) })
  .strict();
