import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/** The error statuses an endpoint may answer; each has its documented body. */
export const ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 422, 429, 503] as const;
export type ErrorStatus = (typeof ERROR_STATUSES)[number];

/** What an endpoint answers on success: a JSON body, or nothing (204 No Content). */
export const NO_CONTENT = 'no content' as const;

export interface DocumentedEndpoint {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path relative to /api, e.g. /persons/:id */
  path: string;
  policy: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  status?: number;
  summary?: string;
  /**
   * The success body; its `.meta({ description })` describes the response. Required: the
   * document tells what every endpoint answers (NO_CONTENT for a 204).
   */
  response: z.ZodType | typeof NO_CONTENT;
  /** The success body's media type when it is not JSON (a CSV file: text/csv). */
  mediaType?: string;
  /**
   * Error statuses this endpoint answers beyond those every endpoint of its kind does (see
   * errorStatusesOf): 409, 422, 429, or 401 on a public route that checks credentials.
   */
  errors?: readonly ErrorStatus[];
  /** Whether an API token (Bearer) may call it, besides the session. */
  tokens?: boolean;
  /** The request headers it reads (the Idempotency-Key of a creation). */
  headers?: z.ZodObject;
}

/** A list answer: `{ items, total, page, pageSize }`. */
export function pageOf(item: z.ZodType) {
  return z
    .object({
      items: z.array(item),
      total: z.number().int(),
      page: z.number().int(),
      pageSize: z.number().int(),
    })
    .strict();
}

/**
 * A list answer whose total is counted up to a cap: `{ items, total, totalCapped, page,
 * pageSize }`; `totalCapped` true says that more than `total` match (the search over a large
 * structure, where counting every match of a short word would cost more than the page).
 */
export function cappedPageOf(item: z.ZodType) {
  return pageOf(item)
    .extend({
      totalCapped: z.boolean().meta({
        description: 'More than `total` match: the count stopped there (refine the search)',
      }),
    })
    .strict();
}

/**
 * Every JSON endpoint declared with endpoint() lands here, so the OpenAPI document is generated
 * from the same zod schemas that validate requests and cannot drift from them.
 */
const endpoints = new Map<string, DocumentedEndpoint>();

export function documentEndpoint(e: DocumentedEndpoint): void {
  if (e.response === undefined)
    throw new Error(`${e.method.toUpperCase()} /api${e.path}: no response declared`);
  if (e.response === NO_CONTENT && e.status !== undefined && e.status !== 204)
    throw new Error(`${e.method.toUpperCase()} /api${e.path}: no content answers 204`);
  endpoints.set(`${e.method} ${e.path}`, e);
}

/** One field a 400 names, as the error handler writes it (server/lib/validate.ts). */
const fieldIssue = z
  .object({
    field: z.string().meta({ description: 'The field, dotted: body.services.0.name, page…' }),
    message: z.string(),
    code: z.string().optional().meta({ description: "A rule's stable code, where it has one" }),
  })
  .strict()
  .meta({ id: 'FieldIssue' });

const errorBody = (details: z.ZodType, id: string, description: string) =>
  z
    .object({
      error: z
        .object({
          code: z.string().meta({ description: 'Stable code of the error, to tell them apart' }),
          message: z.string(),
          details: details.optional(),
          requestId: z
            .string()
            .optional()
            .meta({ description: 'With a 5xx: the id to quote to the operators' }),
        })
        .strict(),
    })
    .strict()
    .meta({ id, description });

const errorSchema = errorBody(z.unknown(), 'Error', 'Every error answer');
const validationErrorSchema = errorBody(
  z.array(fieldIssue),
  'ValidationError',
  'Invalid input: code validation_failed with details naming each field, or invalid_json',
);

const STATUS_TEXT: Record<ErrorStatus, string> = {
  400: 'Invalid input; details name each field (an unknown field or parameter is invalid too)',
  401: 'Not signed in, or wrong credentials',
  403: 'Signed in without the right role, an API token outside its scope (token_scope), or a state change sent from another site',
  404: 'Not found, or outside your scope',
  409: 'Conflict: code stale_version (details.current is the row now), anonymised, invalid_transition or conflict',
  413: 'The request body is over 100 kB (code payload_too_large)',
  422: 'Business rule refused (e.g. no consent; an Idempotency-Key sent before with another body: idempotency_key_reused)',
  429: 'Too many requests; Retry-After says when to try again',
  503: 'A dependency is unavailable (code dependency_unavailable or timeout)',
};

const WRITES = new Set(['post', 'put', 'patch', 'delete']);

/**
 * The error statuses of an endpoint: those every endpoint of its kind answers, then its own.
 * - 400: params, query and body are parsed strictly, so any endpoint refuses unknown input;
 * - 401: any route that is not public; 429 too where an API token may call it (wrong tokens
 *   are throttled);
 * - 403: any route that is not public (an API token outside its referral routes: token_scope),
 *   and every write (the same-origin check refuses cross-site writes);
 * - 404: a route with path parameters (unknown or outside the caller's scope);
 * - 413: every write (the JSON body limit);
 * - 503: every route (the database or Redis down).
 */
export function errorStatusesOf(e: DocumentedEndpoint): ErrorStatus[] {
  const codes = new Set<ErrorStatus>([400, 503, ...(e.errors ?? [])]);
  if (e.policy !== 'public') codes.add(401);
  // Wrong API tokens are throttled per address, as failed logins are.
  if (e.tokens) codes.add(429);
  if (e.policy !== 'public' || WRITES.has(e.method)) codes.add(403);
  if (e.params || /:\w+/.test(e.path)) codes.add(404);
  if (WRITES.has(e.method)) codes.add(413);
  return ERROR_STATUSES.filter((c) => codes.has(c));
}

/**
 * The cross-field rules a schema checks with .refine(), as "field: message": JSON Schema cannot
 * say most of them, so the document says them in words. zod keeps a refine's path and message
 * on its check; a superRefine keeps neither, so its rules go in the fields' own descriptions.
 */
export function rulesOf(schema: z.ZodType | undefined): string[] {
  const checks = (schema?._zod.def as { checks?: { _zod: { def: unknown } }[] } | undefined)
    ?.checks;
  return (checks ?? []).flatMap((c) => {
    const def = c._zod.def as {
      check?: string;
      path?: PropertyKey[];
      error?: (issue: unknown) => unknown;
    };
    if (def.check !== 'custom' || typeof def.error !== 'function') return [];
    const message = def.error({});
    if (typeof message !== 'string') return [];
    return [def.path?.length ? `${def.path.join('.')}: ${message}` : message];
  });
}

/** "Rules (400 naming the field): …", or nothing for a schema without cross-field rules. */
function rulesText(schema: z.ZodType | undefined): string | undefined {
  const rules = rulesOf(schema);
  return rules.length ? `Rules (else 400 naming the field): ${rules.join('; ')}.` : undefined;
}

function objectOrUndefined(s: z.ZodType | undefined): z.ZodObject | undefined {
  // refine()/transform() wrap objects: only plain objects can describe params and query.
  return s instanceof z.ZodObject ? s : undefined;
}

type Responses = Record<
  string,
  { description: string; content?: Record<string, { schema: z.ZodType }> }
>;

export function buildOpenApiDocument(info: { version: string; serverUrl: string }) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'av.sid',
  });
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      "A partner user's API token (POST /api/tokens), for the referral endpoints that list it",
  });
  for (const e of [...endpoints.values()].sort((a, b) => a.path.localeCompare(b.path))) {
    const isPublic = e.policy === 'public';
    const responses: Responses =
      e.response === NO_CONTENT
        ? { '204': { description: 'Done; no content' } }
        : {
            [String(e.status ?? 200)]: {
              description: (e.response.meta()?.description as string | undefined) ?? 'Success',
              content: { [e.mediaType ?? 'application/json']: { schema: e.response } },
            },
          };
    for (const code of errorStatusesOf(e)) {
      responses[String(code)] = {
        description: STATUS_TEXT[code],
        content: {
          'application/json': { schema: code === 400 ? validationErrorSchema : errorSchema },
        },
      };
    }
    registry.registerPath({
      method: e.method,
      path: `/api${e.path.replace(/:(\w+)/g, '{$1}')}`,
      summary: e.summary,
      // Grouped by the first segment of the path: persons, referrals, partners…
      tags: [e.path.split('/')[1]],
      description: [`Policy: ${e.policy}.`, rulesText(e.query)].filter(Boolean).join(' '),
      security: isPublic ? [] : e.tokens ? [{ session: [] }, { bearer: [] }] : [{ session: [] }],
      request: {
        params: objectOrUndefined(e.params),
        query: objectOrUndefined(e.query),
        headers: e.headers,
        // Required unless an empty body would do (every field optional): then it is taken as {}.
        body: e.body
          ? {
              required: !e.body.safeParse({}).success,
              description: rulesText(e.body),
              content: { 'application/json': { schema: e.body } },
            }
          : undefined,
      },
      responses,
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'aller-vers API',
      version: info.version,
      description:
        'JSON API of aller-vers. Errors are { "error": { "code", "message", "details"? } }; ' +
        'a 400 names each invalid field in details. Lists are { items, total, page, pageSize }. ' +
        'Request bodies are JSON, at most 100 kB. Session cookie from POST /api/session; ' +
        'partner systems send an API token (POST /api/tokens) as "Authorization: Bearer <token>" ' +
        'to the referral endpoints, and get 403 token_scope anywhere else.',
    },
    servers: [{ url: info.serverUrl }],
  });
}
