import type { Notification } from '../../features/notifications/notification-repository';
import { formatDateTime, localPath, plural } from '../format';
import { Csrf } from './components';
import { Layout, type PageContext } from './layout';

export function NotificationsPage({
  ctx,
  items,
  total,
}: {
  ctx: PageContext;
  items: Notification[];
  total: number;
}) {
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
          <button
            type="submit"
            class="fr-btn fr-btn--secondary fr-icon-check-line fr-btn--icon-left"
          >
            Tout marquer comme lu
          </button>
        </form>
      ) : null}
      {items.length === 0 ? (
        <p>Aucune notification pour l’instant. Les suivis arrivés à échéance apparaîtront ici.</p>
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
      {total > items.length ? (
        <p class="fr-text--sm">Seules les {items.length} plus récentes sont affichées.</p>
      ) : null}
    </Layout>
  );
}
