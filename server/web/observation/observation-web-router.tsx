import { Router, type Request, type Response } from 'express';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import { OBSERVATION_ROLES } from '../../features/observation/observation-router';
import { observationQuery } from '../../features/observation/observation-schemas';
import { hasCode } from '../../lib/errors';
import { zodIssues } from '../../lib/validate';
import { formValues } from '../forms';
import { pageContext } from '../page-context';
import { actorOf } from '../page-helpers';
import { sendPage } from '../render';
import { ObservationPage } from './observation-page';

type Services = Deps['services'];

/** What a field of the period picker that cannot be read means, in French. */
const FIELD_MESSAGES: Record<string, string> = {
  from: 'La date de début doit être une date (jj/mm/aaaa), moins de dix ans avant la date de fin.',
  to: 'La date de fin doit être une date (jj/mm/aaaa), pas avant la date de début.',
  by: 'Choisissez un regroupement de la liste.',
};

/**
 * The observation dashboard at `path` (the observer's home `/`, or `/observation`). The period
 * picker's empty fields take the defaults; a period that cannot be read is a 400 page saying why.
 */
export async function renderObservation(
  services: Services,
  req: Request,
  res: Response,
  path: string,
) {
  const actor = actorOf(req);
  const raw = formValues(req.query as Record<string, unknown>, ['from', 'to', 'by']);
  const typed = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== ''));
  const q = observationQuery.safeParse(typed);
  const ctx = await pageContext(req, services.notifications);
  const nav = path === '/' ? 'home' : 'observation';
  const refuse = (fields: string[]) =>
    sendPage(
      res,
      <ObservationPage
        ctx={ctx}
        action={path}
        nav={nav}
        form={{ from: raw.from ?? '', to: raw.to ?? '', by: raw.by ?? '' }}
        observation={null}
        errors={Object.fromEntries(
          fields.map((f) => [f, FIELD_MESSAGES[f] ?? `Le paramètre « ${f} » n’est pas reconnu.`]),
        )}
      />,
      400,
    );
  if (!q.success) return refuse(zodIssues(q.error).map((i) => i.field));
  let observation;
  try {
    observation = await services.observation.get(actor, q.data, requestContext(req));
  } catch (err) {
    // The one rule the service checks itself: a start too far before today (the default end).
    if (hasCode(err, 'validation_failed')) return refuse(['from']);
    throw err;
  }
  sendPage(
    res,
    <ObservationPage
      ctx={ctx}
      action={path}
      nav={nav}
      form={{ from: observation.from, to: observation.to, by: observation.by ?? '' }}
      observation={observation}
    />,
  );
}

/** The dashboard for managers (linked from their menu) and observers (also their home). */
export function observationWebRouter(services: Services): Router {
  const r = Router();
  r.get('/observation', hasRole(...OBSERVATION_ROLES), (req, res) =>
    renderObservation(services, req, res, '/observation'),
  );
  return r;
}
