import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { actorOf, type PolicyMiddleware } from '../auth/policies';
import type { Actor } from '../auth/actor';
import type { RequestContext } from '../features/audit/audit-trail';
import {
  IDEMPOTENCY_KEY_HEADER,
  idempotencyKey,
} from '../features/idempotency/idempotency-schemas';
import { ForbiddenError } from '../lib/errors';
import { documentEndpoint, type ErrorStatus, type NO_CONTENT } from '../lib/openapi';
import { parseInput } from '../lib/validate';
import { requestContext } from './request-context';

/** What a route takes where it declares no query or no body: nothing (an unknown field is a 400). */
const NOTHING = z.object({}).strict();

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface EndpointSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: Method;
  path: string;
  policy: PolicyMiddleware;
  params?: P;
  query?: Q;
  body?: B;
  status?: number;
  /** One line for the OpenAPI document. */
  summary?: string;
  /**
   * The success body, for the OpenAPI document (tests check real answers against it); NO_CONTENT
   * for a handler that answers 204. Required, so no endpoint goes undocumented.
   */
  response: z.ZodType | typeof NO_CONTENT;
  /** The success body's media type when the handler sends something else than JSON itself. */
  mediaType?: string;
  /** Error statuses beyond those its policy, params and method imply (409, 422, 429…). */
  errors?: readonly ErrorStatus[];
  /** Whether a partner system's API token (Bearer) may call it; every other route refuses one. */
  tokens?: boolean;
  /**
   * A creation made once per `Idempotency-Key` header (`features/idempotency`): the key goes to
   * the service in the request context; a repeat answers as the first did, and a key reused
   * for another request is a 422 `idempotency_key_reused`.
   */
  idempotent?: boolean;
  handler: (input: {
    params: z.infer<P>;
    query: z.infer<Q>;
    body: z.infer<B>;
    /** The signed-in user; reading it on a public route without one throws a 401. */
    actor: Actor;
    /** Where the request came from, for the audit trail. */
    ctx: RequestContext;
    req: Request;
    res: Response;
  }) => Promise<unknown>;
}

/** The Idempotency-Key header as the OpenAPI document shows it. */
const IDEMPOTENCY_HEADERS = z.object({
  [IDEMPOTENCY_KEY_HEADER]: idempotencyKey.optional().meta({
    description:
      'A one-time key for this creation, new for each one (a UUID): a repeat of the request ' +
      'with the same key creates nothing and answers as the first did (same status, the same ' +
      'resource), also while the first is still in flight. Kept at least 24 hours. The same ' +
      'key with another body is a 422 idempotency_key_reused.',
  }),
});

/**
 * Registers one JSON endpoint: policy first, then strict zod parsing of params, query and body,
 * then one service call. A handler returning undefined answers 204.
 */
export function endpoint<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  router: Router,
  spec: EndpointSpec<P, Q, B>,
): void {
  documentEndpoint({
    method: spec.method,
    path: spec.path,
    policy: spec.policy.policy,
    params: spec.params,
    query: spec.query,
    body: spec.body,
    status: spec.status,
    summary: spec.summary,
    response: spec.response,
    mediaType: spec.mediaType,
    errors: spec.idempotent ? [...(spec.errors ?? []), 422] : spec.errors,
    tokens: spec.tokens,
    headers: spec.idempotent ? IDEMPOTENCY_HEADERS : undefined,
  });
  router[spec.method](
    spec.path,
    spec.policy,
    // A rejection goes to the error handler: Express 5 forwards it.
    async (req: Request, res: Response) => {
      if (req.authVia === 'token' && !spec.tokens)
        throw new ForbiddenError(
          "An API token reads and moves its partner's referrals only",
          'token_scope',
        );
      const params = spec.params
        ? parseInput(spec.params, req.params, 'path parameter')
        : req.params;
      // Strict by default: a route that declares no query takes none.
      const query = parseInput(spec.query ?? NOTHING, req.query, 'query parameter');
      // Strict too: a route that declares no body takes none, rather than dropping fields a
      // client believed would count (a revocation "reason", say).
      const body = parseInput(spec.body ?? NOTHING, req.body ?? {}, 'body');
      // A malformed key is a 400 naming the header, as any other input.
      const key = spec.idempotent
        ? parseInput(
            IDEMPOTENCY_HEADERS,
            { [IDEMPOTENCY_KEY_HEADER]: req.get(IDEMPOTENCY_KEY_HEADER) },
            'header',
          )[IDEMPOTENCY_KEY_HEADER]
        : undefined;
      const result = await spec.handler({
        params: params as z.infer<P>,
        query: query as z.infer<Q>,
        body: (spec.body ? body : undefined) as z.infer<B>,
        get actor() {
          return actorOf(req);
        },
        ctx:
          key === undefined ? requestContext(req) : { ...requestContext(req), idempotencyKey: key },
        req,
        res,
      });
      if (res.headersSent) return;
      if (result === undefined) res.status(204).end();
      else res.status(spec.status ?? 200).json(result);
    },
  );
}
