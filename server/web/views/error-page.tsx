import { homeFor } from '../../auth/actor';
import { Layout, type PageContext } from './layout';

interface ErrorPageProps {
  ctx: PageContext;
  status: number;
  title: string;
  message: string;
  requestId?: string;
  /** Where to go instead, when the page knows (a merged file: the file it went into). */
  next?: { href: string; label: string };
}

/** Says what happened and what to do next, never a stack trace. */
export function ErrorPage({ ctx, status, title, message, requestId, next }: ErrorPageProps) {
  return (
    <Layout title={title} ctx={ctx}>
      <div class="fr-grid-row">
        <div class="fr-col-12 fr-col-md-8">
          <h1>{title}</h1>
          <p class="fr-text--sm fr-mb-3w">Erreur {status}</p>
          <p class="fr-text--lead">{message}</p>
          {requestId ? (
            <p class="fr-text--sm">
              Si le problème continue, transmettez ce numéro à l'administrateur ou l'administratrice
              : <code>{requestId}</code>
            </p>
          ) : null}
          {ctx.staff ? (
            <ul class="fr-btns-group fr-btns-group--inline-md">
              {next ? (
                <li>
                  <a class="fr-btn" href={next.href}>
                    {next.label}
                  </a>
                </li>
              ) : null}
              <li>
                <a class="fr-btn" href="/">
                  Aller à « Mes actions »
                </a>
              </li>
              <li>
                <a class="fr-btn fr-btn--secondary" href="/personnes">
                  Rechercher une personne
                </a>
              </li>
            </ul>
          ) : (
            <a class="fr-btn" href={ctx.actor ? homeFor(ctx.actor.role) : '/connexion'}>
              {ctx.actor ? 'Retour à l’accueil' : 'Se connecter'}
            </a>
          )}
        </div>
      </div>
    </Layout>
  );
}
