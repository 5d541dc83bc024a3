import type { RetentionOutcome } from '../../server/features/retention/retention-service';
import { done, skipped, type Processor } from '../processor';

const result = (o: RetentionOutcome) => (o.done ? done() : skipped(o.reason));

/** 'retention.nightly': one structure's anonymisations and audit purge (server/features/retention). */
export const retentionNightly: Processor = async ({ deadline, trx, deps, now }) =>
  result(await deps.services.retention.runNightly(trx, deadline, now));
