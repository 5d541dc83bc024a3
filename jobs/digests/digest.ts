import type { DigestOutcome } from '../../server/features/digests/digest-service';
import { done, skipped, type Processor } from '../processor';

const result = (o: DigestOutcome) => (o.done ? done() : skipped(o.reason));

/** 'digest.daily': one structure's digests of the day (server/features/digests). */
export const digestDaily: Processor = async ({ deadline, trx, deps, now }) =>
  result(await deps.services.digests.runDaily(trx, deadline, now));

/** 'digest.email': one user's digest by email. */
export const digestEmail: Processor = async ({ deadline, trx, deps, now }) =>
  result(await deps.services.digests.sendEmail(trx, deadline, now));
