import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { createdTokenView, createTokenBody, tokenListView, tokenParams } from './api-token-schemas';
import type { ApiTokenService } from './api-token-service';

/** Partner users manage their own tokens, with their session (a token cannot make a token). */
export function apiTokenRouter(tokens: ApiTokenService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/tokens',
    policy: hasRole('partner'),
    summary: "The caller's live API tokens (never the token itself), with their last use",
    response: tokenListView,
    handler: ({ actor }) => tokens.list(actor),
  });
  endpoint(r, {
    method: 'post',
    path: '/tokens',
    policy: hasRole('partner'),
    body: createTokenBody,
    status: 201,
    summary:
      'Create an API token for a partner system: answered this once, stored hashed; it reads and moves the partner’s referrals only',
    response: createdTokenView,
    handler: ({ actor, body, ctx }) => tokens.create(actor, body, ctx),
  });
  endpoint(r, {
    method: 'delete',
    path: '/tokens/:id',
    policy: hasRole('partner'),
    params: tokenParams,
    summary: 'Revoke one of your tokens: it stops working at once (404 for another user’s)',
    handler: async ({ actor, params, ctx }) => {
      await tokens.revoke(actor, params.id, ctx);
      return undefined;
    },
  });
  return r;
}
