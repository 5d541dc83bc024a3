import { Router, type Request, type Response } from 'express';
import { isAuthenticated } from '../../auth/policies';
import type { Deps } from '../../container';
import { codeBody } from '../../features/two-factor/two-factor-schemas';
import { requestContext } from '../../http/request-context';
import { hasCode } from '../../lib/errors';
import { formValues } from '../forms';
import { csrf, pageContext } from '../page-context';
import { actorOf, redirect } from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm, type FormState } from '../views/components';
import { ENROL_PATH, RecoveryCodesPage, TwoFactorPage } from '../views/two-factor-pages';

type Services = Deps['services'];
type FormName = 'confirm' | 'renew' | 'disable';

const WRONG_CODE = 'Ce code est incorrect ou a déjà servi ; saisissez le code affiché maintenant';
const MISSING_CODE = 'Saisissez le code affiché par votre application';
const TOO_MANY_CODES = 'Trop de codes incorrects : patientez quelques minutes avant de réessayer';

/** Each user's own second factor: enrol from a QR code, renew recovery codes, turn it off. */
export function twoFactorWebRouter(services: Services): Router {
  const r = Router();
  const protect = [isAuthenticated(), csrf.csrfSynchronisedProtection] as const;

  async function render(
    req: Request,
    res: Response,
    form: FormState = emptyForm(),
    formFor: FormName | null = null,
    status = 200,
  ) {
    const actor = actorOf(req);
    const [twoFactor, enrolment, ctx] = await Promise.all([
      services.twoFactor.status(actor),
      services.twoFactor.pendingEnrolment(actor),
      pageContext(req, services.notifications),
    ]);
    sendPage(
      res,
      <TwoFactorPage
        ctx={ctx}
        status={twoFactor}
        enrolment={enrolment}
        form={form}
        formFor={formFor}
      />,
      status,
    );
  }

  /** Reads the code of a form; re-renders the page with the error when it is missing. */
  async function withCode(
    req: Request,
    res: Response,
    formFor: FormName,
    act: (code: string) => Promise<void>,
  ) {
    const parsed = codeBody.safeParse({ code: formValues(req.body, ['code']).code ?? '' });
    if (!parsed.success)
      return render(req, res, { values: {}, errors: { code: MISSING_CODE } }, formFor, 400);
    try {
      return await act(parsed.data.code);
    } catch (err) {
      if (hasCode(err, 'totp_invalid'))
        return render(req, res, { values: {}, errors: { code: WRONG_CODE } }, formFor, 401);
      if (hasCode(err, 'too_many_requests'))
        return render(req, res, { values: {}, errors: { code: TOO_MANY_CODES } }, formFor, 429);
      if (hasCode(err, 'conflict')) return redirect(req, res, ENROL_PATH);
      throw err;
    }
  }

  r.get(ENROL_PATH, isAuthenticated(), (req, res) => render(req, res));

  r.post(`${ENROL_PATH}/activation`, ...protect, async (req, res) => {
    try {
      await services.twoFactor.startEnrolment(actorOf(req));
    } catch (err) {
      if (!hasCode(err, 'conflict')) throw err;
    }
    await redirect(req, res, `${ENROL_PATH}#activer`);
  });

  r.post(`${ENROL_PATH}/confirmation`, ...protect, (req, res) =>
    withCode(req, res, 'confirm', async (code) => {
      const { recoveryCodes } = await services.twoFactor.confirmEnrolment(
        actorOf(req),
        code,
        requestContext(req),
      );
      const ctx = await pageContext(req, services.notifications);
      ctx.flash = { type: 'success', message: 'La double authentification est activée.' };
      sendPage(res, <RecoveryCodesPage ctx={ctx} codes={recoveryCodes} />);
    }),
  );

  r.post(`${ENROL_PATH}/codes-de-secours`, ...protect, (req, res) =>
    withCode(req, res, 'renew', async (code) => {
      const { recoveryCodes } = await services.twoFactor.renewRecoveryCodes(
        actorOf(req),
        code,
        requestContext(req),
      );
      const ctx = await pageContext(req, services.notifications);
      sendPage(res, <RecoveryCodesPage ctx={ctx} codes={recoveryCodes} />);
    }),
  );

  r.post(`${ENROL_PATH}/desactivation`, ...protect, (req, res) =>
    withCode(req, res, 'disable', async (code) => {
      await services.twoFactor.disable(actorOf(req), code, requestContext(req));
      await redirect(req, res, ENROL_PATH, {
        type: 'success',
        message: 'La double authentification est désactivée.',
      });
    }),
  );
  return r;
}
