import { Router } from 'express';
import { isAuthenticated } from '../../auth/policies';
import type { Deps } from '../../container';
import { csrf, pageContext } from '../page-context';
import { actorOf, idOf, redirect } from '../page-helpers';
import { sendPage } from '../render';
import { NotificationsPage } from '../views/notifications-page';

type Services = Deps['services'];

/** The user's notifications, and marking one read. */
export function notificationWebRouter(services: Services): Router {
  const r = Router();

  // ---- Notifications ------------------------------------------------------------------------
  r.get('/notifications', isAuthenticated(), async (req, res) => {
    const actor = actorOf(req);
    const [list, ctx] = await Promise.all([
      services.notifications.list(actor.id, { page: 1, pageSize: 50 }),
      pageContext(req, null),
    ]);
    ctx.unread = list.unread;
    sendPage(res, <NotificationsPage ctx={ctx} items={list.items} total={list.total} />);
  });

  r.post(
    '/notifications/tout-lu',
    isAuthenticated(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const { read } = await services.notifications.markAllRead(actorOf(req).id);
      await redirect(req, res, '/notifications', {
        type: 'success',
        message:
          read === 0
            ? 'Tout était déjà lu.'
            : `${read > 1 ? `${read} notifications marquées` : '1 notification marquée'} comme lue${read > 1 ? 's' : ''}.`,
      });
    },
  );

  r.post(
    '/notifications/:id/lu',
    isAuthenticated(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const n = await services.notifications.markRead(actorOf(req).id, idOf(req));
      await redirect(req, res, '/notifications', {
        type: 'success',
        message: `Notification « ${n.title} » marquée comme lue.`,
      });
    },
  );

  return r;
}
