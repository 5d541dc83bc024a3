import type { Processor } from '../processor';

/** 'digest.daily': one structure's digests of the day (server/features/digests). */
export const digestDaily: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.digests.runDaily(trx, deadline, now);

/** 'digest.email': one user's digest by email. */
export const digestEmail: Processor = ({ deadline, trx, deps, now }) =>
  deps.services.digests.sendEmail(trx, deadline, now);
