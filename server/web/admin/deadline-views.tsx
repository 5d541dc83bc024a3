import { DEADLINE_VIEWS, type DeadlineView } from '../../features/deadlines/deadline-admin-service';
import type { Deadline } from '../../features/deadlines/deadline-repository';
import type { Page } from '../../lib/validate';
import { formatDateTime } from '../format';
import { Csrf, Pagination } from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import {
  DEADLINE_KIND_LABELS,
  DEADLINE_STATUS_BADGES,
  DEADLINE_STATUS_LABELS,
  DEADLINE_VIEW_LABELS,
} from './deadline-labels';

const mayRetry = (d: Deadline) =>
  d.status === 'failed' || (d.status === 'pending' && d.attempts > 0);

/** The structure's deadlines in difficulty (or any), with their attempts, last error and a retry. */
export function AdminDeadlinesPage({
  ctx,
  view,
  list,
}: {
  ctx: PageContext;
  view: DeadlineView;
  list: Page<Deadline>;
}) {
  const href = (v: DeadlineView, page = 1) =>
    `/admin/echeances?view=${v}${page > 1 ? `&page=${page}` : ''}`;
  return (
    <Layout title="Échéances" ctx={ctx} nav="deadlines">
      <h1>Échéances</h1>
      <p>
        Chaque rappel, alerte, courriel ou expiration est une échéance. Celles qui échouent sont
        réessayées automatiquement ; une échéance « échouée » ne l’est plus : relancez-la une fois
        la cause réglée (serveur de courriel, partenaire). Aucune donnée sur les personnes
        n’apparaît ici.
      </p>
      <nav aria-label="Filtrer les échéances" class="fr-mb-3w">
        <ul class="fr-tags-group">
          {DEADLINE_VIEWS.map((v) => (
            <li>
              <a class="fr-tag" href={href(v)} aria-current={v === view ? 'page' : undefined}>
                {DEADLINE_VIEW_LABELS[v]}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {list.total === 0 ? (
        <p>Aucune échéance dans cette liste.</p>
      ) : (
        <div class="fr-table fr-table--no-caption">
          <table>
            <caption>Échéances : {DEADLINE_VIEW_LABELS[view].toLowerCase()}</caption>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Prévue le</th>
                <th scope="col">État</th>
                <th scope="col">Tentatives</th>
                <th scope="col">Dernière erreur</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((d) => (
                <tr id={`echeance-${d.id}`}>
                  <td>
                    {DEADLINE_KIND_LABELS[d.kind] ?? d.kind}
                    <br />
                    <span class="fr-text--xs av-muted">{d.kind}</span>
                  </td>
                  <td>{formatDateTime(d.dueAt)}</td>
                  <td>
                    <span
                      class={`fr-badge fr-badge--sm fr-badge--no-icon ${DEADLINE_STATUS_BADGES[d.status]}`}
                    >
                      {DEADLINE_STATUS_LABELS[d.status]}
                    </span>
                  </td>
                  <td>{d.attempts}</td>
                  <td>
                    <span class="fr-text--xs">{d.lastError ?? '—'}</span>
                  </td>
                  <td>
                    {mayRetry(d) ? (
                      <form method="post" action={`/admin/echeances/${d.id}/relancer`}>
                        <Csrf token={ctx.csrfToken} />
                        <input type="hidden" name="view" value={view} />
                        <button type="submit" class="fr-btn fr-btn--sm fr-btn--secondary">
                          Relancer
                          <span class="fr-sr-only">
                            {' '}
                            l’échéance {DEADLINE_KIND_LABELS[d.kind] ?? d.kind} du{' '}
                            {formatDateTime(d.dueAt)}
                          </span>
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination
        page={list.page}
        total={list.total}
        pageSize={list.pageSize}
        href={(p) => href(view, p)}
        label="Pages des échéances"
      />
    </Layout>
  );
}
