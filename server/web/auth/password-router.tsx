import { Router, type Request, type Response } from 'express';
import { isPublic } from '../../auth/policies';
import type { Deps } from '../../container';
import { PASSWORD_PATH_PREFIX, PASSWORD_TOKEN_PATTERN } from '../../features/users/password-links';
import { isEmailAddress } from '../../lib/email-address';
import { hasCode, type TooManyRequestsError } from '../../lib/errors';
import { formFromServiceError, formValues, PASSWORD_MESSAGES } from '../forms';
import { csrf, pageContext } from '../page-context';
import { redirect } from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm, type FormState } from '../views/components';
import { ForgotPasswordPage, SetPasswordPage } from '../views/password-pages';

type Services = Deps['services'];

/** The forgotten-password request and the page a set-password link opens on. */
export function passwordWebRouter(services: Services): Router {
  const r = Router();
  const tokenOf = (req: Request) => {
    const t = String(req.params.token ?? '');
    return PASSWORD_TOKEN_PATTERN.test(t) ? t : '';
  };

  r.get('/mot-de-passe-oublie', isPublic(), async (req, res) => {
    const ctx = await pageContext(req, null, { withToken: true });
    sendPage(res, <ForgotPasswordPage ctx={ctx} form={emptyForm()} sent={false} />);
  });

  r.post('/mot-de-passe-oublie', isPublic(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['email']);
    const email = (values.email ?? '').trim();
    const form = { values: { email }, errors: {} as Record<string, string> };
    let status = 200;
    if (!isEmailAddress(email)) {
      form.errors.email = 'Saisissez une adresse électronique, par exemple prenom.nom@ccas.fr';
      status = 400;
    } else {
      try {
        await services.users.requestReset(email, req.ip ?? 'unknown');
      } catch (err) {
        if (!hasCode(err, 'too_many_requests')) throw err;
        form.errors.email =
          'Trop de demandes pour cette adresse : patientez avant d’en faire une nouvelle';
        status = 429;
      }
    }
    const ctx = await pageContext(req, null, { withToken: true });
    sendPage(res, <ForgotPasswordPage ctx={ctx} form={form} sent={status === 200} />, status);
  });

  /** The set-password page for a link: its problem (404/410) or its form with what went wrong. */
  async function sendSetPassword(
    req: Request,
    res: Response,
    token: string,
    form: FormState,
    status = 200,
  ) {
    const state = token
      ? await services.users.linkState(token)
      : ({ ok: false, problem: 'link_invalid' } as const);
    const ctx = await pageContext(req, null, { withToken: true });
    const action = `${PASSWORD_PATH_PREFIX}${token}`;
    if (!state.ok)
      return sendPage(
        res,
        <SetPasswordPage ctx={ctx} action={action} form={emptyForm()} problem={state.problem} />,
        state.problem === 'link_invalid' ? 404 : 410,
      );
    sendPage(
      res,
      <SetPasswordPage
        ctx={ctx}
        action={action}
        name={state.name}
        email={state.email}
        form={form}
      />,
      status,
    );
  }

  r.get(`${PASSWORD_PATH_PREFIX}:token`, isPublic(), async (req, res) => {
    await sendSetPassword(req, res, tokenOf(req), emptyForm());
  });

  r.post(
    `${PASSWORD_PATH_PREFIX}:token`,
    isPublic(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const token = tokenOf(req);
      const values = formValues(req.body, ['password', 'confirmation']);
      const errors: Record<string, string> = {};
      const password = values.password ?? '';
      if (!password) errors.password = 'Saisissez un mot de passe';
      else if (password !== values.confirmation)
        errors.confirmation = 'Les deux mots de passe ne sont pas identiques';
      if (!errors.password && !errors.confirmation && token) {
        try {
          await services.users.setPassword(token, password, req.ip ?? 'unknown');
          return redirect(req, res, '/connexion', {
            type: 'success',
            message: 'Votre mot de passe est enregistré : connectez-vous avec.',
          });
        } catch (err) {
          if (hasCode(err, 'too_many_requests')) {
            const wait = (err as TooManyRequestsError).retryAfterSeconds;
            if (wait) res.setHeader('Retry-After', String(wait));
            errors.password =
              'Trop de tentatives depuis votre connexion : patientez quelques minutes, puis recommencez';
            return sendSetPassword(req, res, token, { values: {}, errors }, 429);
          }
          const refused = formFromServiceError(err, {}, PASSWORD_MESSAGES);
          if (refused) {
            Object.assign(errors, refused.errors);
          } else if (!hasCode(err, 'link_invalid', 'link_used', 'link_expired')) throw err;
        }
      }
      await sendSetPassword(req, res, token, { values: {}, errors }, 400);
    },
  );

  return r;
}
