import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import { isPublic } from '../../auth/policies';

/** Where the private port serves the queue dashboard. */
export const QUEUE_DASHBOARD_PATH = '/queues';

/**
 * The deadline queue itself, as BullMQ holds it (bull-board): the operator's technical view,
 * served only on the private port (METRICS_PORT), beside /metrics, never on the app's own port.
 * The queue is the deployment's: its jobs span every structure (their kinds, timings and
 * failure texts, which may quote a staff or partner address), and nobody of a structure may see
 * another's; a structure's admins follow its own deadlines at /admin/echeances. Read-only: the
 * deadlines table is the source of truth, and a job retried, promoted or removed here would act
 * behind its row (retries go through the deadlines page, which re-plans the row).
 * bull-board (its API, its Express adapter and their templates, some 7 MB of heap) is loaded at
 * the first visit, not at start.
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
  const readOnly: RequestHandler = (req, res, next) => {
    if (['GET', 'HEAD'].includes(req.method)) return next();
    res.status(403).type('text').send('The queue dashboard is read-only');
  };
  const r = Router();
  // The private port has no session: whoever reaches it is the operator, as for /metrics.
  // bull-board's own routes sit behind one handler (they carry no policy marker of their own).
  r.use(QUEUE_DASHBOARD_PATH, isPublic(), readOnly, (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
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
