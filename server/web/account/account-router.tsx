import { Router } from 'express';
import { z } from 'zod';
import { isAuthenticated } from '../../auth/policies';
import type { Deps } from '../../container';
import type { TwoFactorStatus } from '../../features/two-factor/two-factor-service';
import type { Preferences } from '../../features/users/user-preference-service';
import { parseInput } from '../../lib/validate';
import { formatTimeOfDay } from '../format';
import { csrf, pageContext } from '../page-context';
import { actorOf, redirect } from '../page-helpers';
import { sendPage } from '../render';
import { Csrf } from '../views/components';
import { Layout, type PageContext } from '../views/layout';
import { TOKENS_PATH } from '../views/api-token-pages';
import { ENROL_PATH } from '../views/two-factor-pages';

type Services = Deps['services'];

function AccountPage({
  ctx,
  prefs,
  digest,
  twoFactor,
}: {
  ctx: PageContext;
  prefs: Preferences;
  /** When the user's daily digest comes; null for a role that gets none. */
  digest: { time: string } | null;
  twoFactor: TwoFactorStatus;
}) {
  return (
    <Layout title="Mon compte" ctx={ctx} nav="account">
      <h1>Mon compte</h1>
      <p>
        {ctx.actor?.name} — {ctx.actor?.email}
      </p>
      {digest ? <DigestSection ctx={ctx} prefs={prefs} time={digest.time} /> : null}
      <section class="fr-mb-5w" aria-labelledby="double-authentification">
        <h2 id="double-authentification" class="fr-h4">
          Double authentification
        </h2>
        <p>
          {twoFactor.enabled
            ? 'Activée : un code de votre application d’authentification est demandé à chaque connexion.'
            : twoFactor.required
              ? 'Votre structure la demande : activez-la pour continuer.'
              : 'Désactivée : activez-la pour qu’un mot de passe ne suffise pas à entrer dans votre compte.'}
        </p>
        <a class="fr-btn fr-btn--secondary" href={ENROL_PATH}>
          {twoFactor.enabled
            ? 'Gérer la double authentification'
            : 'Activer la double authentification'}
        </a>
      </section>
      {ctx.actor?.role === 'partner' ? (
        <section class="fr-mb-5w" aria-labelledby="jetons">
          <h2 id="jetons" class="fr-h4">
            Jetons d’accès à l’API
          </h2>
          <p>
            Pour que le logiciel de votre association lise vos orientations et y réponde sans passer
            par ces pages.
          </p>
          <a class="fr-btn fr-btn--secondary" href={TOKENS_PATH}>
            Gérer les jetons d’accès
          </a>
        </section>
      ) : null}
    </Layout>
  );
}

/** The daily digest and whether it also comes by email. */
function DigestSection({
  ctx,
  prefs,
  time,
}: {
  ctx: PageContext;
  prefs: Preferences;
  time: string;
}) {
  return (
    <section class="fr-mb-5w" aria-labelledby="preferences">
      <h2 id="preferences" class="fr-h4">
        Point du jour
      </h2>
      <p>
        Chaque jour ouvré à {formatTimeOfDay(time)}, s’il y a quelque chose à faire, un point du
        jour (suivis du jour et en retard, orientations en attente) arrive dans vos notifications.
        Il peut aussi vous être envoyé par courriel ; il ne nomme alors aucune personne.
      </p>
      <form method="post" action="/mon-compte">
        <Csrf token={ctx.csrfToken} />
        <div class="fr-fieldset__element">
          <div class="fr-checkbox-group">
            <input
              type="checkbox"
              id="emailNotifications"
              name="emailNotifications"
              value="true"
              checked={prefs.emailNotifications}
            />
            <label class="fr-label" for="emailNotifications">
              Recevoir aussi le point du jour par courriel
            </label>
          </div>
        </div>
        <button type="submit" class="fr-btn fr-mt-2w">
          Enregistrer
        </button>
      </form>
    </section>
  );
}

const preferencesForm = z
  .object({ _csrf: z.string(), emailNotifications: z.literal('true').optional() })
  .strict();

/**
 * Everyone's own account page: when the daily digest comes and whether it also comes by email
 * (for the roles that get one), the second factor, and a partner user's API tokens.
 */
export function accountWebRouter(services: Services): Router {
  const r = Router();
  r.get('/mon-compte', isAuthenticated(), async (req, res) => {
    const [prefs, digest, twoFactor, ctx] = await Promise.all([
      services.preferences.get(actorOf(req)),
      services.digests.scheduleFor(actorOf(req)),
      services.twoFactor.status(actorOf(req)),
      pageContext(req, services.notifications),
    ]);
    sendPage(res, <AccountPage ctx={ctx} prefs={prefs} digest={digest} twoFactor={twoFactor} />);
  });
  r.post('/mon-compte', isAuthenticated(), csrf.csrfSynchronisedProtection, async (req, res) => {
    // A value the form never sends answers 400 (the bad-request page), not 404.
    const body = parseInput(preferencesForm, req.body ?? {}, 'body');
    const prefs = await services.preferences.update(actorOf(req), {
      emailNotifications: body.emailNotifications === 'true',
    });
    await redirect(req, res, '/mon-compte', {
      type: 'success',
      message: prefs.emailNotifications
        ? 'Le point du jour vous sera aussi envoyé par courriel.'
        : 'Le point du jour ne vous sera plus envoyé par courriel ; il reste dans vos notifications.',
    });
  });
  return r;
}
