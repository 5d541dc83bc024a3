import { Csrf, ErrorSummary, TextField, type FormState } from './components';
import { Layout, type PageContext } from './layout';

export const LOGIN_LABELS = { email: 'Adresse électronique', password: 'Mot de passe' };

export function LoginPage({
  ctx,
  form,
  returnTo,
}: {
  ctx: PageContext;
  form: FormState;
  returnTo: string;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  return (
    <Layout title="Connexion" hasErrors={hasErrors} ctx={ctx}>
      <div class="fr-grid-row fr-grid-row--center">
        <div class="fr-col-12 fr-col-md-8 fr-col-lg-6">
          <h1>Connexion à aller-vers</h1>
          <p>Connectez-vous avec l'adresse électronique et le mot de passe de votre compte.</p>
          <ErrorSummary form={form} labels={LOGIN_LABELS} />
          <form method="post" action="/connexion" novalidate>
            <Csrf token={ctx.csrfToken} />
            <input type="hidden" name="retour" value={returnTo} />
            <fieldset class="fr-fieldset" aria-labelledby="identifiants">
              <legend class="fr-fieldset__legend" id="identifiants">
                Vos identifiants
              </legend>
              <div class="fr-fieldset__element">
                <TextField
                  form={form}
                  name="email"
                  label={LOGIN_LABELS.email}
                  hint="Par exemple : prenom.nom@ccas.fr"
                  type="email"
                  autocomplete="username"
                  required
                />
              </div>
              <div class="fr-fieldset__element">
                <TextField
                  form={{ values: {}, errors: form.errors }}
                  name="password"
                  label={LOGIN_LABELS.password}
                  type="password"
                  autocomplete="current-password"
                  required
                />
              </div>
            </fieldset>
            <button type="submit" class="fr-btn">
              Se connecter
            </button>
          </form>
          <p class="fr-mt-3w">
            <a href="/mot-de-passe-oublie">Mot de passe oublié ?</a>
          </p>
          <p class="fr-text--sm">
            Compte désactivé ? Demandez à l'administrateur ou l'administratrice de votre structure.
          </p>
        </div>
      </div>
    </Layout>
  );
}
