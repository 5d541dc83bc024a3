import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { homeFor } from '../../auth/actor';
import { logIn, logOut } from '../../auth/login';
import { isAuthenticated, isPublic } from '../../auth/policies';
import type { Deps } from '../../container';
import { loginBody } from '../../features/auth/auth-router';
import { codeBody } from '../../features/two-factor/two-factor-schemas';
import { hasCode, type TooManyRequestsError } from '../../lib/errors';
import { formValues, LOGIN_MESSAGES, parseWith } from '../forms';
import { localPath } from '../format';
import { csrf, pageContext } from '../page-context';
import { redirect, saveAndRedirect } from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm } from '../views/components';
import type { Flash } from '../views/layout';
import { LoginPage } from '../views/login-page';
import { LoginCodePage } from '../views/two-factor-pages';

/**
 * Signed in: the form token of the pages to come is minted now, saved with the new session, and
 * only then is the redirect sent. express-session saves a regenerated session (passport's, at
 * login) once more after the redirect's headers are out, and the browser follows them at once: a
 * token the next page minted could be overwritten by that late save, and the first form sent
 * after signing in answered "Formulaire expiré" (seen once in CI, under load). Both saves now
 * carry the same token, which the next page finds.
 */
function signedIn(req: Request, res: Response, home: string, returnTo: string): Promise<void> {
  csrf.generateToken(req);
  return saveAndRedirect(req, res, returnTo === '/' ? home : returnTo);
}

/** How long the code step waits after a right password. */
const PENDING_LOGIN_MS = 5 * 60 * 1000;

type Services = Deps['services'];

const SESSION_EXPIRED: Flash = {
  type: 'warning',
  message:
    'Votre session a expiré ; ce que vous aviez saisi n’a pas été enregistré. Reconnectez-vous pour revenir à la page, puis saisissez-le à nouveau.',
};

/** The same, when what was typed was kept (server/web/kept-form.ts): the page gives it back. */
const SESSION_EXPIRED_KEPT: Flash = {
  type: 'warning',
  message:
    'Votre session a expiré ; rien n’a été enregistré, mais ce que vous aviez saisi est conservé. Reconnectez-vous pour le retrouver sur la page.',
};

/** The login form's own token refused: its page outlived its session. */
const LOGIN_PAGE_EXPIRED: Flash = {
  type: 'warning',
  message:
    'La page de connexion était ouverte depuis longtemps et n’était plus valable : saisissez à nouveau votre mot de passe.',
};

/**
 * The login form's token refused (the page stayed open past its anonymous session's 30
 * minutes, or a login happened since in another tab): not the "Formulaire expiré" page, but the
 * form again with a fresh token, the address typed and the way back kept; or, signed in
 * meanwhile, the way back itself.
 */
function loginTokenRefused(services: Services): ErrorRequestHandler {
  return (err, req, res, next) => {
    if ((err as { code?: string } | undefined)?.code !== 'EBADCSRFTOKEN') return next(err);
    const values = formValues(req.body, ['email', 'retour']);
    const returnTo = localPath(values.retour) ?? '/';
    if (req.user) return res.redirect(303, returnTo === '/' ? homeFor(req.user.role) : returnTo);
    return void pageContext(req, services.notifications, { withToken: true })
      .then((ctx) => {
        ctx.flash = LOGIN_PAGE_EXPIRED;
        sendPage(
          res,
          <LoginPage
            ctx={ctx}
            form={{ values: { email: values.email ?? '' }, errors: {} }}
            returnTo={returnTo}
          />,
          403,
        );
      })
      .catch(next);
  };
}

/** The login and logout pages. */
export function loginWebRouter(services: Services): Router {
  const r = Router();

  // ---- Login / logout -------------------------------------------------------------------
  r.get('/connexion', isPublic(), async (req, res) => {
    const returnTo = localPath(req.query.retour) ?? '/';
    if (req.user) return res.redirect(303, returnTo);
    const ctx = await pageContext(req, services.notifications, { withToken: true });
    if (!ctx.flash && req.query.session === 'expiree')
      ctx.flash = req.session?.keptForm ? SESSION_EXPIRED_KEPT : SESSION_EXPIRED;
    if (!ctx.flash && req.query.retour)
      ctx.flash = { type: 'info', message: 'Connectez-vous pour continuer.' };
    if (!ctx.flash && req.query.deconnecte)
      ctx.flash = { type: 'success', message: 'Vous êtes déconnecté·e.' };
    sendPage(res, <LoginPage ctx={ctx} form={emptyForm()} returnTo={returnTo} />);
  });

  r.post(
    '/connexion',
    isPublic(),
    csrf.csrfSynchronisedProtection,
    async (req: Request, res: Response) => {
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
          return await signedIn(req, res, homeFor(user.role), returnTo);
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
            errors.password = `Trop de tentatives de connexion : patientez ${waitText(
              (err as TooManyRequestsError).retryAfterSeconds,
            )} avant de réessayer`;
            const retryAfter = (err as TooManyRequestsError).retryAfterSeconds;
            if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
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
    },
    loginTokenRefused(services),
  );

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
        return await signedIn(req, res, homeFor(user.role), pending.returnTo);
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

/** The wait of a slowed or blocked login, in words: seconds for a slow-down, minutes for a block. */
function waitText(seconds: number | undefined): string {
  if (!seconds) return 'quelques minutes';
  if (seconds < 60) return `${seconds} seconde${seconds > 1 ? 's' : ''}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes > 1 ? 's' : ''}`;
}
