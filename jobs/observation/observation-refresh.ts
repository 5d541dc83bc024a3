import { done, type Processor } from '../processor';

/** 'observation.refresh': one structure's observation snapshots computed again (server/features/observation). */
export const observationRefresh: Processor = async ({ deadline, trx, deps, now }) => {
  await deps.services.observation.runRefresh(trx, deadline, now);
  return done();
};
