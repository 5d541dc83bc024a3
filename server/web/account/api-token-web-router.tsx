import { Router, type Request, type Response } from 'express';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { createTokenBody } from '../../features/api-tokens/api-token-schemas';
import { requestContext } from '../../http/request-context';
import { hasCode } from '../../lib/errors';
import { formValues, parseWith } from '../forms';
import { csrf, pageContext } from '../page-context';
import { actorOf, idOf, redirect } from '../page-helpers';
import { sendPage } from '../render';
import { ApiTokensPage, TOKEN_EXPIRY_OPTIONS, TOKENS_PATH } from '../views/api-token-pages';
import { emptyForm, type FormState } from '../views/components';

type Services = Deps['services'];

const TOKEN_MESSAGES = {
  name: 'Donnez un nom au jeton (80 caractères au plus)',
  expiresInDays: 'Choisissez une durée de la liste',
};

/** A partner user's API tokens on their account: create (shown once), list, revoke. */
export function apiTokenWebRouter(services: Services): Router {
  const r = Router();
  const partner = () => hasRole('partner');

  async function render(
    req: Request,
    res: Response,
    form: FormState = emptyForm(),
    status = 200,
    created?: { name: string; token: string },
  ) {
    const [tokens, ctx] = await Promise.all([
      services.apiTokens.list(actorOf(req)),
      pageContext(req, services.notifications),
    ]);
    sendPage(
      res,
      <ApiTokensPage ctx={ctx} tokens={tokens.items} form={form} created={created} />,
      status,
    );
  }

  r.get(TOKENS_PATH, partner(), (req, res) => render(req, res));

  r.post(TOKENS_PATH, partner(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['name', 'expiresInDays']);
    const days = values.expiresInDays ?? '';
    const known = days in TOKEN_EXPIRY_OPTIONS;
    const parsed = parseWith(
      createTokenBody,
      { name: values.name ?? '', ...(days && known ? { expiresInDays: Number(days) } : {}) },
      values,
      TOKEN_MESSAGES,
      known ? {} : { expiresInDays: TOKEN_MESSAGES.expiresInDays },
    );
    if (!parsed.ok) return render(req, res, parsed.form, 400);
    try {
      const created = await services.apiTokens.create(
        actorOf(req),
        parsed.data,
        requestContext(req),
      );
      // Shown in this answer only: never in a redirect's session message.
      return render(req, res, emptyForm(), 200, created);
    } catch (err) {
      if (!hasCode(err, 'too_many_tokens')) throw err;
      return render(
        req,
        res,
        {
          values,
          errors: { name: 'Vous avez déjà 20 jetons : révoquez-en un avant d’en créer un autre' },
        },
        422,
      );
    }
  });

  r.post(
    `${TOKENS_PATH}/:id/revocation`,
    partner(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      await services.apiTokens.revoke(actorOf(req), idOf(req), requestContext(req));
      await redirect(req, res, TOKENS_PATH, {
        type: 'success',
        message: 'Le jeton est révoqué : il ne fonctionne plus.',
      });
    },
  );
  return r;
}
