import type { ComponentChildren } from 'preact';
import type { LinkProblem } from '../../features/users/user-service';
import { Csrf, ErrorSummary, TextField, type FormState } from './components';
import { Layout, type PageContext } from './layout';

export const PASSWORD_LABELS = {
  email: 'Adresse électronique',
  password: 'Nouveau mot de passe',
  confirmation: 'Confirmez le mot de passe',
};

const PROBLEMS: Record<LinkProblem, string> = {
  link_invalid:
    'Ce lien ne fonctionne pas : il est incomplet, a été remplacé par un lien plus récent, ou le compte est désactivé.',
  link_expired: 'Ce lien a expiré : il n’est valable que 48 heures.',
  link_used: 'Ce lien a déjà servi : un lien ne sert qu’une fois.',
};

function Narrow({ children }: { children: ComponentChildren }) {
  return (
    <div class="fr-grid-row fr-grid-row--center">
      <div class="fr-col-12 fr-col-md-8 fr-col-lg-6">{children}</div>
    </div>
  );
}

/** The form of a forgotten password: one address; the answer never tells whether it is known. */
export function ForgotPasswordPage({
  ctx,
  form,
  sent,
}: {
  ctx: PageContext;
  form: FormState;
  sent: boolean;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  return (
    <Layout title="Mot de passe oublié" hasErrors={hasErrors} ctx={ctx}>
      <Narrow>
        <h1>Mot de passe oublié</h1>
        {sent ? (
          <div class="fr-alert fr-alert--success fr-mb-3w" role="status">
            <p>
              Si un compte actif correspond à cette adresse, un lien pour choisir un nouveau mot de
              passe vient d’y être envoyé. Il est valable 48 heures et ne sert qu’une fois.
            </p>
          </div>
        ) : (
          <p>
            Indiquez l’adresse électronique de votre compte : vous recevrez un lien pour choisir un
            nouveau mot de passe.
          </p>
        )}
        <ErrorSummary form={form} labels={PASSWORD_LABELS} />
        <form method="post" action="/mot-de-passe-oublie" novalidate>
          <Csrf token={ctx.csrfToken} />
          <TextField
            form={form}
            name="email"
            label={PASSWORD_LABELS.email}
            hint="Par exemple : prenom.nom@ccas.fr"
            type="email"
            autocomplete="username"
            required
          />
          <button type="submit" class="fr-btn">
            {sent ? 'Renvoyer un lien' : 'Recevoir un lien'}
          </button>
        </form>
        <p class="fr-mt-3w">
          <a href="/connexion">Retour à la connexion</a>
        </p>
      </Narrow>
    </Layout>
  );
}

/** The page a set-password link opens on: the form, or why the link does not work. */
export function SetPasswordPage({
  ctx,
  action,
  name,
  email,
  form,
  problem,
}: {
  ctx: PageContext;
  action: string;
  name?: string;
  email?: string;
  form: FormState;
  problem?: LinkProblem;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const title = 'Choisir votre mot de passe';
  return (
    <Layout title={title} hasErrors={hasErrors || Boolean(problem)} ctx={ctx}>
      <Narrow>
        <h1>{title}</h1>
        {problem ? (
          <>
            <div class="fr-alert fr-alert--error fr-mb-3w" role="alert">
              <p>{PROBLEMS[problem]}</p>
            </div>
            <p>
              <a class="fr-btn" href="/mot-de-passe-oublie">
                Recevoir un nouveau lien
              </a>
            </p>
          </>
        ) : (
          <>
            <p>
              Bonjour {name}. Choisissez le mot de passe de votre compte {email} : au moins 12
              caractères, par exemple plusieurs mots sans rapport entre eux. Les mots de passe trop
              courants sont refusés.
            </p>
            <ErrorSummary form={form} labels={PASSWORD_LABELS} />
            <form method="post" action={action} novalidate>
              <Csrf token={ctx.csrfToken} />
              {/* Lets password managers attach the new password to the right account. */}
              <input type="hidden" name="username" value={email} autocomplete="username" />
              <TextField
                form={{ values: {}, errors: form.errors }}
                name="password"
                label={PASSWORD_LABELS.password}
                hint="12 à 128 caractères"
                type="password"
                autocomplete="new-password"
                required
              />
              <TextField
                form={{ values: {}, errors: form.errors }}
                name="confirmation"
                label={PASSWORD_LABELS.confirmation}
                type="password"
                autocomplete="new-password"
                required
              />
              <button type="submit" class="fr-btn">
                Enregistrer mon mot de passe
              </button>
            </form>
          </>
        )}
      </Narrow>
    </Layout>
  );
}
