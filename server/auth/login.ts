import type { Request } from 'express';
import type { UserRecord } from '../features/users/user-repository';

/**
 * Puts the user in a fresh session (passport regenerates the id) and stamps its start; a form
 * kept from the session that ended comes along.
 */
export function logIn(req: Request, user: UserRecord): Promise<void> {
  // A form refused when the last session ended, kept for its page (server/web/kept-form.ts):
  // the new session holds it, as it holds createdAt, for that page to give back.
  const keptForm = req.session.keptForm;
  return new Promise((resolve, reject) => {
    const sessionUser = { ...user, sessionEpoch: user.sessionEpoch };
    req.logIn(sessionUser, (err) => {
      if (err) return reject(err);
      req.session.createdAt = Date.now();
      req.session.epoch = user.sessionEpoch;
      if (keptForm) req.session.keptForm = keptForm;
      return resolve();
    });
  });
}

/** Ends the passport login and destroys the server-side session. */
export function logOut(req: Request): Promise<void> {
  return new Promise((resolve, reject) => {
    req.logout((err) => {
      if (err) return reject(err);
      if (!req.session) return resolve();
      return req.session.destroy((e) => (e ? reject(e) : resolve()));
    });
  });
}
