import type { Processor } from '../processor';

/**
 * 'user.password_email': the invitation or set-password email, at least once with a dedupe key
 * (the rule: user-service `sendPasswordEmail`).
 */
export const userPasswordEmail: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.users.sendPasswordEmail(trx, deadline, now);
