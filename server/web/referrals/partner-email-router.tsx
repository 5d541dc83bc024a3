import { Router, type Request, type Response } from 'express';
import { isPublic } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import {
  PARTNER_EMAIL_PATH_PREFIX,
  PARTNER_EMAIL_TOKEN_PATTERN,
  type EmailChangeProblem,
} from '../../features/partners/partner-email-changes';
import { hasCode } from '../../lib/errors';
import { csrf, pageContext } from '../page-context';
import { sendPage } from '../render';
import { PartnerEmailPage } from './partner-email-views';

type Services = Deps['services'];

/**
 * The page a partner's new address opens from its confirmation link: a button to confirm (a GET
 * changes nothing, so a mail scanner opening the link confirms nothing), then the result. No
 * account is needed: holding the link is what proves the address.
 */
export function partnerEmailRouter(services: Services): Router {
  const r = Router();
  const tokenOf = (req: Request) => {
    const t = String(req.params.token ?? '');
    return PARTNER_EMAIL_TOKEN_PATTERN.test(t) ? t : '';
  };

  async function sendProblem(req: Request, res: Response, problem: EmailChangeProblem) {
    const ctx = await pageContext(req, null, { withToken: true });
    sendPage(
      res,
      <PartnerEmailPage ctx={ctx} action="" problem={problem} />,
      problem === 'link_invalid' ? 404 : 410,
    );
  }

  r.get(`${PARTNER_EMAIL_PATH_PREFIX}:token`, isPublic(), async (req, res) => {
    const token = tokenOf(req);
    const state = token
      ? await services.partners.emailChangeState(token)
      : ({ ok: false, problem: 'link_invalid' } as const);
    if (!state.ok) return sendProblem(req, res, state.problem);
    const ctx = await pageContext(req, null, { withToken: true });
    sendPage(
      res,
      <PartnerEmailPage
        ctx={ctx}
        action={`${PARTNER_EMAIL_PATH_PREFIX}${token}`}
        partnerName={state.partnerName}
        newEmail={state.newEmail}
      />,
    );
  });

  r.post(
    `${PARTNER_EMAIL_PATH_PREFIX}:token`,
    isPublic(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const token = tokenOf(req);
      if (!token) return sendProblem(req, res, 'link_invalid');
      try {
        const done = await services.partners.confirmEmailChange(token, requestContext(req));
        const ctx = await pageContext(req, null, { withToken: true });
        return sendPage(res, <PartnerEmailPage ctx={ctx} action="" confirmed={done} />);
      } catch (err) {
        if (!hasCode(err, 'link_invalid', 'link_used', 'link_expired')) throw err;
        return sendProblem(req, res, (err as { code: EmailChangeProblem }).code);
      }
    },
  );

  return r;
}
