import { Router } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { observationQuery, observationView } from './observation-schemas';
import type { ObservationService } from './observation-service';

/** Managers and observers: who may read the structure's statistics. */
export const OBSERVATION_ROLES = ['manager', 'observer'] as const;

export function observationRouter(observation: ObservationService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/observation',
    policy: hasRole(...OBSERVATION_ROLES),
    query: observationQuery,
    summary:
      'Manager, observer: aggregated indicators for a period (default: the twelve months up to today), optionally by district, right, source or team, with referrals by partner; any count under the structure\'s threshold, and any count it could be recomputed from, reads "< N"; each read is audited',
    response: observationView,
    handler: ({ actor, query, ctx }) => observation.get(actor, query, ctx),
  });
  endpoint(r, {
    method: 'get',
    path: '/observation.csv',
    policy: hasRole(...OBSERVATION_ROLES),
    query: observationQuery,
    summary:
      'Manager, observer: the same aggregates as CSV (text/csv, UTF-8 with BOM, semicolons, French heads), suppressed the same way, formula cells escaped; each export is audited',
    response: z.string().meta({ description: 'The CSV file, as an attachment' }),
    mediaType: 'text/csv',
    handler: async ({ actor, query, ctx, res }) => {
      const { filename, body } = await observation.csv(actor, query, ctx);
      res.status(200).type('text/csv; charset=utf-8').attachment(filename).send(body);
    },
  });
  return r;
}
