import type { Notification } from '../../features/notifications/notification-repository';
import type { Page } from '../../lib/validate';
import { formatDateTime, localPath, plural } from '../format';
import { Csrf, Pagination, RangeNote } from './components';
import { Layout, type PageContext } from './layout';

/** The address of a page of notifications, the filter kept. */
export const notificationsHref =
  (filters: { unreadOnly: boolean }) =>
  (page: number): string => {
    const q = new URLSearchParams();
    if (filters.unreadOnly) q.set('unread', 'true');
    if (page > 1) q.set('page', String(page));
    const query = q.toString();
    return query ? `/notifications?${query}` : '/notifications';
  };

/** The page a form was sent from, in hidden fields: its action leads back there. */
function PageShown({ page, unreadOnly }: { page: number; unreadOnly: boolean }) {
  return (
    <>
      <input type="hidden" name="page" value={String(page)} />
      {unreadOnly ? <input type="hidden" name="unread" value="true" /> : null}
    </>
  );
}

export function NotificationsPage({
  ctx,
  list,
  unreadOnly,
}: {
  ctx: PageContext;
  /** One page, newest first, and when the newest unread one came (whichever page it is on). */
  list: Page<Notification> & { newestUnreadAt: Date | null };
  /** The unread ones only ("Non lues seulement"). */
  unreadOnly: boolean;
}) {
  const { items, total, page, pageSize } = list;
  return (
    <Layout title="Notifications" ctx={ctx} nav="notifications">
      <h1>Notifications</h1>
      <p class="fr-text--lead">
        {ctx.unread === 0
          ? 'Tout est lu.'
          : plural(ctx.unread, 'notification non lue', 'notifications non lues')}
      </p>
      {ctx.unread > 0 ? (
        <form method="post" action="/notifications/tout-lu" class="fr-mb-3w">
          <Csrf token={ctx.csrfToken} />
          <PageShown page={page} unreadOnly={unreadOnly} />
          {/* What the page was shown with: a notice arriving after it stays unread. */}
          {list.newestUnreadAt ? (
            <input type="hidden" name="avant" value={list.newestUnreadAt.toISOString()} />
          ) : null}
          <button
            type="submit"
            class="fr-btn fr-btn--secondary fr-icon-check-line fr-btn--icon-left"
          >
            Tout marquer comme lu
          </button>
        </form>
      ) : null}
      <form method="get" action="/notifications" class="fr-mb-3w av-filters">
        <div class="fr-checkbox-group fr-mb-2w">
          <input type="checkbox" id="unread" name="unread" value="true" checked={unreadOnly} />
          <label class="fr-label" for="unread">
            Non lues seulement
          </label>
        </div>
        <button class="fr-btn fr-btn--secondary fr-btn--sm" type="submit">
          Filtrer
        </button>
      </form>
      <RangeNote
        page={page}
        total={total}
        pageSize={pageSize}
        shown={items.length}
        noun="De la plus récente à la plus ancienne : notifications"
      />
      {items.length === 0 ? (
        <p>
          {unreadOnly
            ? 'Aucune notification non lue.'
            : 'Aucune notification pour l’instant. Les suivis arrivés à échéance apparaîtront ici.'}
        </p>
      ) : (
        <ul class="av-list">
          {items.map((n) => {
            const link = localPath(n.link);
            return (
              <li class={`av-item${n.readAt ? '' : ' av-item--unread'}`}>
                <div>
                  <p class="fr-text--bold fr-mb-1v">
                    {n.readAt ? null : <span class="fr-sr-only">Non lue : </span>}
                    {link ? <a href={link}>{n.title}</a> : n.title}
                  </p>
                  {n.body ? <p class="fr-text--sm fr-mb-1v">{n.body}</p> : null}
                  <p class="fr-text--xs fr-mb-0">{formatDateTime(n.createdAt)}</p>
                </div>
                {n.readAt ? (
                  <p class="fr-text--sm fr-mb-0 av-muted">Lue</p>
                ) : (
                  <form method="post" action={`/notifications/${n.id}/lu`} class="av-inline-form">
                    <Csrf token={ctx.csrfToken} />
                    <PageShown page={page} unreadOnly={unreadOnly} />
                    <button type="submit" class="fr-btn fr-btn--sm fr-btn--tertiary">
                      Marquer comme lue<span class="fr-sr-only"> : {n.title}</span>
                    </button>
                  </form>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <Pagination
        page={page}
        total={total}
        pageSize={pageSize}
        href={notificationsHref({ unreadOnly })}
        label="Pages des notifications"
      />
    </Layout>
  );
}
