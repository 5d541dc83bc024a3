import { Router } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import {
  DEADLINE_VIEWS,
  listDeadlinesQuery,
} from '../../features/deadlines/deadline-admin-service';
import { requestContext } from '../../http/request-context';
import { hasCode, NotFoundError } from '../../lib/errors';
import { parseInput } from '../../lib/validate';
import { csrf, pageContext } from '../page-context';
import { actorOf, idOf, redirect } from '../page-helpers';
import { sendPage } from '../render';
import { AdminDeadlinesPage } from './deadline-views';

type Services = Deps['services'];

const retryForm = z.object({ _csrf: z.string(), view: z.enum(DEADLINE_VIEWS).optional() }).strict();

/** Admins: the page over the deadlines of their structure, and its retry button. */
export function deadlineWebRouter(services: Services): Router {
  const r = Router();
  const admin = () => hasRole('admin');

  r.get('/admin/echeances', admin(), async (req, res) => {
    const q = listDeadlinesQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    const [list, ctx] = await Promise.all([
      services.deadlineAdmin.list(actorOf(req), { ...q.data, pageSize: 50 }),
      pageContext(req, services.notifications),
    ]);
    sendPage(res, <AdminDeadlinesPage ctx={ctx} view={q.data.view} list={list} />);
  });

  r.post(
    '/admin/echeances/:id/relancer',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const id = idOf(req);
      const body = parseInput(retryForm, req.body ?? {}, 'body');
      const back = `/admin/echeances?view=${body.view ?? 'troubled'}`;
      try {
        await services.deadlineAdmin.retry(actorOf(req), id, requestContext(req));
      } catch (err) {
        if (!hasCode(err, 'invalid_transition')) throw err;
        return redirect(req, res, back, {
          type: 'info',
          message: 'Cette échéance n’est plus en échec : rien à relancer.',
        });
      }
      await redirect(req, res, back, {
        type: 'success',
        message: 'Échéance relancée : elle est de nouveau en attente de traitement.',
      });
    },
  );
  return r;
}
