import type { Request } from 'express';
import type { UserRecord } from '../features/users/user-repository';

/** Puts the user in a fresh session (passport regenerates the id) and stamps its start. */
export function logIn(req: Request, user: UserRecord): Promise<void> {
  return new Promise((resolve, reject) => {
    const sessionUser = { ...user, sessionEpoch: user.sessionEpoch };
    req.logIn(sessionUser, (err) => {
      if (err) return reject(err);
      req.session.createdAt = Date.now();
      req.session.epoch = user.sessionEpoch;
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
