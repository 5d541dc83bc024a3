import { Router, type Request } from 'express';
import { z } from 'zod';
import { isAuthenticated } from '../../auth/policies';
import type { Deps } from '../../container';
import { ValidationError } from '../../lib/errors';
import { isoDateTime } from '../../lib/validate';
import { plural } from '../format';
import { csrf, pageContext } from '../page-context';
import { actorOf, idOf, pageQuery, redirect, redirectPastLastPage } from '../page-helpers';
import { sendPage } from '../render';
import { NotificationsPage, notificationsHref } from '../views/notifications-page';

type Services = Deps['services'];

/** Notifications come 50 a page, newest first. */
const NOTIFICATIONS_PAGE_SIZE = 50;

/** The page shown: its number, and whether it lists the unread notifications only. */
const notificationFilters = pageQuery.extend({ unread: z.literal('true').optional() }).strict();

/**
 * The page a form of the notifications page came from (its hidden fields), to lead back to it;
 * the first page of all when they are missing or wrong.
 */
function pageSentFrom(req: Request): string {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const sent = notificationFilters.safeParse({ page: body.page, unread: body.unread || undefined });
  if (!sent.success) return '/notifications';
  return notificationsHref({ unreadOnly: sent.data.unread === 'true' })(sent.data.page);
}

/** The "Tout marquer comme lu" form: the newest unread notice when the page was shown. */
const readAllForm = z.object({ avant: isoDateTime().optional() });

/** What "Tout marquer comme lu" did, and what came since the page was shown. */
function readAllMessage(read: number, unread: number): string {
  if (read === 0 && unread === 0) return 'Tout était déjà lu.';
  const done =
    read === 0
      ? ''
      : `${read > 1 ? `${read} notifications marquées` : '1 notification marquée'} comme lue${read > 1 ? 's' : ''}.`;
  const since =
    unread === 0
      ? ''
      : `${plural(unread, 'notification arrivée', 'notifications arrivées')} depuis l’affichage de la page ${unread > 1 ? 'restent non lues' : 'reste non lue'}.`;
  return [done, since].filter(Boolean).join(' ');
}

/** The user's notifications, in pages (all, or the unread ones), and marking them read. */
export function notificationWebRouter(services: Services): Router {
  const r = Router();

  // ---- Notifications ------------------------------------------------------------------------
  r.get('/notifications', isAuthenticated(), async (req, res) => {
    const parsed = notificationFilters.safeParse(req.query);
    if (!parsed.success) {
      throw new ValidationError('Invalid query parameter', [
        { field: 'query', message: 'Le filtre n’est pas valide' },
      ]);
    }
    const unreadOnly = parsed.data.unread === 'true';
    const actor = actorOf(req);
    const [list, ctx] = await Promise.all([
      services.notifications.list(actor.id, {
        unread: unreadOnly,
        page: parsed.data.page,
        pageSize: NOTIFICATIONS_PAGE_SIZE,
      }),
      pageContext(req, null),
    ]);
    // A page past the end (notices read or withdrawn since its link was made) leads to the last.
    const href = notificationsHref({ unreadOnly });
    if (await redirectPastLastPage(req, res, list, href, ctx.flash)) return;
    ctx.unread = list.unread;
    sendPage(res, <NotificationsPage ctx={ctx} list={list} unreadOnly={unreadOnly} />);
  });

  r.post(
    '/notifications/tout-lu',
    isAuthenticated(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const form = readAllForm.safeParse({ avant: body.avant || undefined });
      if (!form.success) {
        throw new ValidationError('Invalid form', [
          { field: 'avant', message: 'Le moment de la page n’est pas valide' },
        ]);
      }
      // Up to the newest notice the page was shown with: one arriving since stays unread.
      const { read, unread } = await services.notifications.markAllRead(
        actorOf(req).id,
        form.data.avant,
      );
      await redirect(req, res, pageSentFrom(req), {
        type: 'success',
        message: readAllMessage(read, unread),
      });
    },
  );

  r.post(
    '/notifications/:id/lu',
    isAuthenticated(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const n = await services.notifications.markRead(actorOf(req).id, idOf(req));
      await redirect(req, res, pageSentFrom(req), {
        type: 'success',
        message: `Notification « ${n.title} » marquée comme lue.`,
      });
    },
  );

  return r;
}
