import { ENROL_PAGE } from '../../auth/two-factor-gate';
import type { Enrolment, TwoFactorStatus } from '../../features/two-factor/two-factor-service';
import { formatDateTime } from '../format';
import { Csrf, ErrorSummary, Section, TextField, type FormState } from './components';
import { Layout, type PageContext } from './layout';

export const ENROL_PATH = ENROL_PAGE;
export const CODE_LABELS = { code: 'Code à 6 chiffres ou code de secours' };

function CodeField({ form, idPrefix }: { form: FormState; idPrefix: string }) {
  return (
    <TextField
      form={form}
      name="code"
      idPrefix={idPrefix}
      label={CODE_LABELS.code}
      hint="Le code affiché par votre application d’authentification, ou un de vos codes de secours"
      autocomplete="one-time-code"
      inputmode="text"
      maxLength={32}
      required
    />
  );
}

/** The second step of a login: the code of the app (or a recovery code). */
export function LoginCodePage({ ctx, form }: { ctx: PageContext; form: FormState }) {
  const hasErrors = Object.keys(form.errors).length > 0;
  return (
    <Layout title="Code de connexion" hasErrors={hasErrors} ctx={ctx}>
      <div class="fr-grid-row fr-grid-row--center">
        <div class="fr-col-12 fr-col-md-8 fr-col-lg-6">
          <h1>Double authentification</h1>
          <p>
            Votre mot de passe est correct. Saisissez maintenant le code à 6 chiffres affiché par
            votre application d’authentification.
          </p>
          <ErrorSummary form={form} labels={{ code: 'Code' }} />
          <form method="post" action="/connexion/code" novalidate>
            <Csrf token={ctx.csrfToken} />
            <TextField
              form={form}
              name="code"
              label="Code"
              hint="6 chiffres ; si vous n’avez plus votre téléphone, un de vos codes de secours (xxxx-xxxx-xxxx-xxxx)"
              autocomplete="one-time-code"
              maxLength={32}
              required
            />
            <button type="submit" class="fr-btn fr-mt-2w">
              Valider
            </button>
          </form>
          <p class="fr-mt-3w">
            <a href="/connexion">Recommencer la connexion</a>
          </p>
          <p class="fr-text--sm">
            Plus de téléphone ni de code de secours ? L’administrateur ou l’administratrice de votre
            structure peut réinitialiser votre double authentification.
          </p>
        </div>
      </div>
    </Layout>
  );
}

/** Recovery codes, shown this once (after enrolling or renewing them). */
export function RecoveryCodesPage({ ctx, codes }: { ctx: PageContext; codes: string[] }) {
  return (
    <Layout title="Vos codes de secours" ctx={ctx} nav="account">
      <h1>Vos codes de secours</h1>
      <div class="fr-alert fr-alert--warning fr-mb-3w">
        <p>
          Notez ou imprimez ces codes maintenant et gardez-les en lieu sûr : ils ne seront plus
          jamais affichés. Chacun remplace une fois le code de l’application si vous perdez votre
          téléphone.
        </p>
      </div>
      <ul class="av-recovery-codes" aria-label="Codes de secours">
        {codes.map((c) => (
          <li>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <p>
        <a class="fr-btn" href={ENROL_PATH}>
          J’ai noté mes codes
        </a>
      </p>
    </Layout>
  );
}

/**
 * The account's second factor: on (renew the recovery codes, turn it off with a code), being
 * enrolled (QR code, secret as text, first code), or off (start).
 */
export function TwoFactorPage({
  ctx,
  status,
  enrolment,
  form,
  formFor,
}: {
  ctx: PageContext;
  status: TwoFactorStatus;
  enrolment: Enrolment | null;
  form: FormState;
  /** Which of the page's forms the errors belong to. */
  formFor: 'confirm' | 'renew' | 'disable' | null;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const formOf = (name: typeof formFor): FormState =>
    formFor === name ? form : { values: {}, errors: {} };
  return (
    <Layout title="Double authentification" hasErrors={hasErrors} ctx={ctx} nav="account">
      <p>
        <a href="/mon-compte" class="fr-link fr-icon-arrow-left-line fr-link--icon-left">
          Mon compte
        </a>
      </p>
      <h1>Double authentification</h1>
      {status.required && !status.enabled ? (
        <div class="fr-alert fr-alert--warning fr-mb-3w" role="alert">
          <p>
            Votre structure demande la double authentification aux cadres et aux administrateurs :
            activez-la pour continuer à utiliser aller-vers.
          </p>
        </div>
      ) : null}
      <p>
        À chaque connexion, après votre mot de passe, aller-vers vous demande un code à 6 chiffres
        affiché par une application d’authentification sur votre téléphone (par exemple FreeOTP,
        Aegis ou Google Authenticator). Quelqu’un qui connaîtrait votre mot de passe ne peut donc
        pas se connecter sans votre téléphone.
      </p>
      <ErrorSummary form={form} labels={CODE_LABELS} idPrefix={`${formFor ?? ''}-`} />
      {status.enabled ? (
        <>
          <p>
            <strong>Activée</strong>
            {status.enabledAt ? ` depuis le ${formatDateTime(status.enabledAt)}` : ''} —{' '}
            {status.recoveryCodesLeft > 1
              ? `${status.recoveryCodesLeft} codes de secours inutilisés`
              : status.recoveryCodesLeft === 1
                ? '1 code de secours inutilisé'
                : 'aucun code de secours inutilisé'}
            .
          </p>
          <Section title="Nouveaux codes de secours" id="codes">
            <p>Les codes de secours précédents cesseront de fonctionner.</p>
            <form method="post" action={`${ENROL_PATH}/codes-de-secours`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <CodeField form={formOf('renew')} idPrefix="renew-" />
              <button type="submit" class="fr-btn fr-btn--secondary fr-mt-2w">
                Obtenir de nouveaux codes
              </button>
            </form>
          </Section>
          <Section title="Désactiver" id="desactiver">
            {status.required ? (
              <p>
                Votre structure l’exige : après la désactivation, il faudra l’activer de nouveau
                (avec un nouveau téléphone, par exemple) avant de continuer.
              </p>
            ) : null}
            <form method="post" action={`${ENROL_PATH}/desactivation`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <CodeField form={formOf('disable')} idPrefix="disable-" />
              <button type="submit" class="fr-btn fr-btn--tertiary fr-mt-2w">
                Désactiver la double authentification
              </button>
            </form>
          </Section>
        </>
      ) : enrolment ? (
        <Section title="Activer" id="activer">
          <ol>
            <li>
              Dans votre application d’authentification, ajoutez un compte en scannant ce QR code :
              <p class="fr-mt-2w">
                <img
                  src={enrolment.qrCode}
                  width={200}
                  height={200}
                  alt="QR code à scanner avec votre application d’authentification (le code à saisir à la main est écrit juste après)"
                />
              </p>
              ou en saisissant à la main cette clé :{' '}
              <code class="av-secret">{enrolment.secret}</code>
            </li>
            <li>Saisissez le code à 6 chiffres que l’application affiche alors.</li>
          </ol>
          <form method="post" action={`${ENROL_PATH}/confirmation`} novalidate>
            <Csrf token={ctx.csrfToken} />
            <TextField
              form={formOf('confirm')}
              name="code"
              idPrefix="confirm-"
              label="Code à 6 chiffres"
              autocomplete="one-time-code"
              inputmode="numeric"
              maxLength={32}
              required
            />
            <button type="submit" class="fr-btn fr-mt-2w">
              Activer
            </button>
          </form>
        </Section>
      ) : (
        <form method="post" action={`${ENROL_PATH}/activation`}>
          <Csrf token={ctx.csrfToken} />
          <button type="submit" class="fr-btn">
            Activer la double authentification
          </button>
        </form>
      )}
    </Layout>
  );
}
