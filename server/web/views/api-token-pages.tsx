import type { ApiToken } from '../../features/api-tokens/api-token-service';
import { formatDateTime } from '../format';
import { Csrf, ErrorSummary, Section, SelectField, TextField, type FormState } from './components';
import { Layout, type PageContext } from './layout';

export const TOKENS_PATH = '/mon-compte/jetons';
export const TOKEN_LABELS = { name: 'Nom du jeton', expiresInDays: 'Durée de validité' };
export const TOKEN_EXPIRY_OPTIONS: Record<string, string> = {
  '': 'Jusqu’à sa révocation',
  '30': '30 jours',
  '90': '90 jours',
  '365': 'Un an',
};

function TokensTable({ ctx, tokens }: { ctx: PageContext; tokens: ApiToken[] }) {
  return (
    <div class="fr-table fr-table--no-caption">
      <table>
        <caption>Vos jetons d’accès</caption>
        <thead>
          <tr>
            <th scope="col">Nom</th>
            <th scope="col">Début du jeton</th>
            <th scope="col">Créé le</th>
            <th scope="col">Dernière utilisation</th>
            <th scope="col">Valable jusqu’au</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr>
              <td>{t.name}</td>
              <td>
                <code>{t.prefix}…</code>
              </td>
              <td>{formatDateTime(t.createdAt)}</td>
              <td>{t.lastUsedAt ? formatDateTime(t.lastUsedAt) : 'Jamais'}</td>
              <td>{t.expiresAt ? formatDateTime(t.expiresAt) : 'Révocation'}</td>
              <td>
                <form method="post" action={`${TOKENS_PATH}/${t.id}/revocation`}>
                  <Csrf token={ctx.csrfToken} />
                  <button type="submit" class="fr-btn fr-btn--tertiary fr-btn--sm">
                    Révoquer<span class="fr-sr-only"> le jeton {t.name}</span>
                  </button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A partner user's API tokens: what they are for, the live ones, and a form for a new one. */
export function ApiTokensPage({
  ctx,
  tokens,
  form,
  created,
}: {
  ctx: PageContext;
  tokens: ApiToken[];
  form: FormState;
  /** The token just created, shown this once. */
  created?: { name: string; token: string };
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  return (
    <Layout title="Jetons d’accès à l’API" hasErrors={hasErrors} ctx={ctx} nav="account">
      <p>
        <a href="/mon-compte" class="fr-link fr-icon-arrow-left-line fr-link--icon-left">
          Mon compte
        </a>
      </p>
      <h1>Jetons d’accès à l’API</h1>
      {created ? (
        <div class="fr-alert fr-alert--success fr-mb-3w" role="status">
          <h2 class="fr-alert__title">Le jeton « {created.name} » est créé</h2>
          <p>
            Copiez-le maintenant dans le logiciel de votre association : il ne sera plus jamais
            affiché.
          </p>
          <p>
            <code class="av-secret">{created.token}</code>
          </p>
        </div>
      ) : null}
      <p>
        Un jeton permet au logiciel de votre association de lire vos orientations et d’y répondre
        (accepter, refuser, clôturer) par l’API, avec l’en-tête{' '}
        <code>Authorization: Bearer &lt;jeton&gt;</code>. Il ne donne accès à rien d’autre.
        Révoquez-le dès qu’il ne sert plus ou s’il a pu être vu. La documentation de l’API est à{' '}
        <a href="/api/docs">/api/docs</a>.
      </p>
      <Section title="Vos jetons" id="jetons">
        {tokens.length ? (
          <TokensTable ctx={ctx} tokens={tokens} />
        ) : (
          <p>Aucun jeton pour l’instant.</p>
        )}
      </Section>
      <Section title="Nouveau jeton" id="nouveau">
        <ErrorSummary form={form} labels={TOKEN_LABELS} />
        <form method="post" action={TOKENS_PATH} novalidate>
          <Csrf token={ctx.csrfToken} />
          <TextField
            form={form}
            name="name"
            label={TOKEN_LABELS.name}
            hint="À quoi il sert, par exemple le nom du logiciel qui l’utilise"
            autocomplete="off"
            maxLength={80}
            required
          />
          <SelectField
            form={form}
            name="expiresInDays"
            label={TOKEN_LABELS.expiresInDays}
            options={TOKEN_EXPIRY_OPTIONS}
          />
          <button type="submit" class="fr-btn fr-mt-2w">
            Créer le jeton
          </button>
        </form>
      </Section>
    </Layout>
  );
}
