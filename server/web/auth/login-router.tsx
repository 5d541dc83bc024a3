import { Router, type Request, type Response } from 'express';
import { homeFor } from '../../auth/actor';
import { logIn, logOut } from '../../auth/login';
import { isAuthenticated, isPublic } from '../../auth/policies';
import type { Deps } from '../../container';
import { loginBody } from '../../features/auth/auth-router';
import { codeBody } from '../../features/two-factor/two-factor-schemas';
import { hasCode } from '../../lib/errors';
import { formValues, LOGIN_MESSAGES, parseWith } from '../forms';
import { localPath } from '../format';
import { csrf, pageContext } from '../page-context';
import { redirect, saveAndRedirect } from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm } from '../views/components';
import type { Flash } from '../views/layout';
import { LoginPage } from '../views/login-page';
import { LoginCodePage } from '../views/two-factor-pages';

/** How long the code step waits after a right password. */
const PENDING_LOGIN_MS = 5 * 60 * 1000;

type Services = Deps['services'];

const SESSION_EXPIRED: Flash = {
  type: 'warning',
  message:
    'Votre session a expiré ; ce que vous aviez saisi n’a pas été enregistré. Reconnectez-vous pour revenir à la page, puis saisissez-le à nouveau.',
};

/** The login and logout pages. */
export function loginWebRouter(services: Services): Router {
  const r = Router();

  // ---- Login / logout -------------------------------------------------------------------
  r.get('/connexion', isPublic(), async (req, res) => {
    const returnTo = localPath(req.query.retour) ?? '/';
    if (req.user) return res.redirect(303, returnTo);
    const ctx = await pageContext(req, services.notifications, { withToken: true });
    if (!ctx.flash && req.query.session === 'expiree') ctx.flash = SESSION_EXPIRED;
    if (!ctx.flash && req.query.retour)
      ctx.flash = { type: 'info', message: 'Connectez-vous pour continuer.' };
    if (!ctx.flash && req.query.deconnecte)
      ctx.flash = { type: 'success', message: 'Vous êtes déconnecté·e.' };
    sendPage(res, <LoginPage ctx={ctx} form={emptyForm()} returnTo={returnTo} />);
  });

  r.post('/connexion', isPublic(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['email', 'password', 'retour']);
    const returnTo = localPath(values.retour) ?? '/';
    // The API's own login schema: the same trimming and limits, errors by the field.
    const parsed = parseWith(
      loginBody,
      { email: values.email ?? '', password: values.password ?? '' },
      values,
      LOGIN_MESSAGES,
    );
    const errors: Record<string, string> = parsed.ok ? {} : parsed.form.errors;
    let status = 400;
    if (parsed.ok) {
      try {
        const user = await services.auth.authenticate(
          parsed.data.email,
          parsed.data.password,
          req.ip ?? 'unknown',
        );
        await logIn(req, user);
        const home = homeFor(user.role);
        return res.redirect(303, returnTo === '/' ? home : returnTo);
      } catch (err) {
        if (hasCode(err, 'totp_required')) {
          // The password was right: the code is asked on its own page (step two).
          const user = await services.users.findByEmail(parsed.data.email);
          if (user) {
            req.session.pendingLogin = {
              userId: user.id,
              email: user.email,
              returnTo,
              at: Date.now(),
            };
            return saveAndRedirect(req, res, '/connexion/code');
          }
        }
        if (hasCode(err, 'unauthenticated', 'totp_required')) {
          status = 401;
          errors.password = 'Adresse électronique ou mot de passe incorrect';
        } else if (hasCode(err, 'too_many_requests')) {
          status = 429;
          errors.password =
            'Trop de tentatives de connexion : patientez quelques minutes avant de réessayer';
        } else throw err;
      }
    }
    const ctx = await pageContext(req, services.notifications, { withToken: true });
    sendPage(
      res,
      <LoginPage
        ctx={ctx}
        form={{ values: { email: values.email ?? '' }, errors }}
        returnTo={returnTo}
      />,
      status,
    );
  });

  // ---- Second step: the code of the second factor ------------------------------------------
  const pendingOf = (req: Request) => {
    const p = req.session.pendingLogin;
    return p && Date.now() - p.at < PENDING_LOGIN_MS ? p : null;
  };
  const startAgain = (req: Request, res: Response) => {
    delete req.session.pendingLogin;
    return redirect(req, res, '/connexion', {
      type: 'warning',
      message: 'Le délai pour saisir le code est dépassé : reconnectez-vous.',
    });
  };

  r.get('/connexion/code', isPublic(), async (req, res) => {
    if (!pendingOf(req)) return startAgain(req, res);
    const ctx = await pageContext(req, services.notifications, { withToken: true });
    sendPage(res, <LoginCodePage ctx={ctx} form={emptyForm()} />);
  });

  r.post('/connexion/code', isPublic(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const pending = pendingOf(req);
    if (!pending) return startAgain(req, res);
    const parsed = codeBody.safeParse({ code: formValues(req.body, ['code']).code ?? '' });
    let status = 400;
    let message = 'Saisissez le code affiché par votre application';
    if (parsed.success) {
      try {
        const user = await services.auth.completeTwoFactor(
          pending.userId,
          pending.email,
          parsed.data.code,
          req.ip ?? 'unknown',
        );
        await logIn(req, user);
        const home = homeFor(user.role);
        return res.redirect(303, pending.returnTo === '/' ? home : pending.returnTo);
      } catch (err) {
        if (hasCode(err, 'totp_invalid')) {
          status = 401;
          message = 'Ce code est incorrect ou a déjà servi ; saisissez le code affiché maintenant';
        } else if (hasCode(err, 'too_many_requests')) {
          status = 429;
          message =
            'Trop de tentatives de connexion : patientez quelques minutes avant de réessayer';
        } else if (hasCode(err, 'unauthenticated')) return startAgain(req, res);
        else throw err;
      }
    }
    const ctx = await pageContext(req, services.notifications, { withToken: true });
    sendPage(
      res,
      <LoginCodePage ctx={ctx} form={{ values: {}, errors: { code: message } }} />,
      status,
    );
  });

  r.post('/deconnexion', isAuthenticated(), csrf.csrfSynchronisedProtection, async (req, res) => {
    await logOut(req);
    res.redirect(303, '/connexion?deconnecte=1');
  });

  return r;
}
