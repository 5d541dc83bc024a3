import { Router, type Request, type RequestHandler, type Response } from 'express';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { z } from 'zod';
import { isPublic } from '../../auth/policies';
import type {
  LinkState,
  ReferralLinkService,
} from '../../features/referrals/referral-link-service';
import { LINK_PATH_PREFIX } from '../../features/referrals/referral-link-tokens';
import { addressKey } from '../../lib/rate-limit';
import { formFromServiceError, formValues, parseWith, type Messages } from '../forms';
import { sendPage } from '../render';
import { emptyForm, type FormState } from '../views/components';
import { LinkAnswerPage, LinkDonePage, LinkRefusedPage } from './link-page';

const answerBody = z
  .object({
    action: z.enum(['accept', 'reject', 'complete', 'fail']),
    reason: z.string().trim().max(500).optional(),
    outcome: z.string().trim().max(2000).optional(),
  })
  .strict();

const ANSWER_FIELDS = ['action', 'reason', 'outcome'] as const;

/** What the answer page says of each refused field (a length is said by lengthMessage). */
const LINK_MESSAGES: Messages = {
  action: 'Choisissez une des réponses proposées par ce lien',
  reason: "Indiquez la raison pour laquelle l'aide n'a pas pu être apportée",
  'reason:not_taken':
    "Une raison n'accompagne qu'un refus ou une aide qui n'a pas pu être apportée : rien n'a été enregistré",
  outcome: "Un résultat ne s'indique qu'à la fin de l'aide : rien n'a été enregistré",
};
const REJECTION_MESSAGES: Messages = { ...LINK_MESSAGES, reason: 'Choisissez un motif de refus' };

const tokenOf = (req: Request) => String(req.params.token ?? '');

export function referralLinkRouter(
  links: ReferralLinkService,
  limiter: RateLimiterAbstract,
): Router {
  const r = Router();

  const limit: RequestHandler = async (req, res, next) => {
    try {
      await limiter.consume(addressKey(req.ip));
      next();
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        // Audited once per address and window, on the first hit turned away: every further
        // hit of a flood would only write the flood into the append-only audit trail.
        if (err.consumedPoints === limiter.points + 1) {
          try {
            await links.refuseRateLimited(req.ip ?? null);
          } catch (auditErr) {
            return next(auditErr);
          }
        }
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.msBeforeNext / 1000))));
        sendPage(res, <LinkRefusedPage reason="rate_limited" />, 429);
        return;
      }
      next(err);
    }
  };

  // Nothing to cache, nothing to send elsewhere: the page URL holds the token.
  const headers: RequestHandler = (_req, res, next) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Robots-Tag', 'noindex');
    next();
  };

  r.get(`${LINK_PATH_PREFIX}:token`, isPublic(), headers, limit, async (req, res) => {
    const state = await links.inspect(tokenOf(req), req.ip ?? null);
    if (state.kind === 'not_found')
      return sendPage(res, <LinkRefusedPage reason="not_found" />, 404);
    if (state.kind === 'gone') return sendPage(res, <LinkRefusedPage reason={state.reason} />, 410);
    return sendPage(res, <LinkAnswerPage state={state} action={req.originalUrl} />);
  });

  /** The answer page again, the refused answer's box holding what was typed and its errors. */
  const refusedPage = (
    req: Request,
    res: Response,
    state: LinkState,
    attempt: { answer: string; form: FormState },
  ) => {
    if (state.kind !== 'open') {
      return sendPage(
        res,
        <LinkRefusedPage reason={state.kind === 'gone' ? state.reason : 'not_found'} />,
        state.kind === 'gone' ? 410 : 404,
      );
    }
    return sendPage(
      res,
      <LinkAnswerPage state={state} action={req.originalUrl} attempt={attempt} />,
      400,
    );
  };

  // The token in the path is the secret a forged cross-site form could not know, so no session
  // and no CSRF token are needed here.
  r.post(`${LINK_PATH_PREFIX}:token`, isPublic(), headers, limit, async (req, res) => {
    const { _csrf: _ignored, ...fields } = (req.body ?? {}) as Record<string, unknown>;
    const values = formValues(fields, ANSWER_FIELDS);
    const messages = values.action === 'reject' ? REJECTION_MESSAGES : LINK_MESSAGES;
    const parsed = parseWith(answerBody, fields, values, messages);
    if (!parsed.ok) {
      // The audit names the first field refused; a key no form has counts as the answer's.
      const field = Object.keys(parsed.form.errors).find((f) => f !== '_form') ?? 'action';
      const state = await links.refuseAnswer(tokenOf(req), req.ip ?? null, field);
      return refusedPage(req, res, state, { answer: values.action ?? '', form: parsed.form });
    }
    const result = await links.answer(tokenOf(req), parsed.data, req.ip ?? null);
    switch (result.kind) {
      case 'not_found':
        return sendPage(res, <LinkRefusedPage reason="not_found" />, 404);
      case 'gone':
        return sendPage(res, <LinkRefusedPage reason={result.reason} />, 410);
      case 'invalid': {
        if (result.state.kind !== 'open')
          return sendPage(res, <LinkRefusedPage reason="closed" />, 410);
        const form = formFromServiceError(result.error, values, messages) ?? emptyForm(values);
        return refusedPage(req, res, result.state, { answer: parsed.data.action, form });
      }
      case 'done':
        return sendPage(res, <LinkDonePage status={result.status} referral={result.referral} />);
    }
  });
  return r;
}
