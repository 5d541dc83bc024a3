import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import { hasRole } from '../../auth/policies';
import { ForbiddenError } from '../../lib/errors';
import { QUEUE_DASHBOARD_PATH } from './deadline-views';

/**
 * The deadline queue itself, as BullMQ holds it (bull-board), for admins: a technical view
 * beside the deadlines page. Read-only: the deadlines table is the source of truth, and a job
 * retried, promoted or removed here would act behind its row (retries go through the
 * deadlines page, which re-plans the row). Jobs carry ids only; error texts carry no person.
 * The queue is the deployment's: its jobs span structures, as the queue does.
 * bull-board (its API, its Express adapter and their templates, some 7 MB of heap) is loaded at
 * an admin's first visit, not at start.
 */
export function queueDashboard(queue: Queue): Router {
  let board: Promise<RequestHandler> | null = null;
  const load = async (): Promise<RequestHandler> => {
    const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/express'),
    ]);
    const adapter = new ExpressAdapter();
    adapter.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({
      queues: [new BullMQAdapter(queue, { readOnlyMode: true, description: 'Échéances' })],
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: 'aller-vers', locale: { lng: 'fr-FR' } } },
    });
    return adapter.getRouter() as RequestHandler;
  };
  const readOnly: RequestHandler = (req, _res, next) =>
    ['GET', 'HEAD'].includes(req.method)
      ? next()
      : next(new ForbiddenError('The queue dashboard is read-only'));
  const r = Router();
  // The policy guards the whole mount: bull-board's own routes sit behind it, wrapped in one
  // handler (they carry no policy marker of their own).
  r.use(QUEUE_DASHBOARD_PATH, hasRole('admin'), readOnly, (req, res, next) => {
    board ??= load();
    // A failed load is not kept: the next visit tries again.
    board.then(
      (handle) => handle(req, res, next),
      (err: unknown) => {
        board = null;
        next(err);
      },
    );
  });
  return r;
}
