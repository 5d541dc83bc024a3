import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

interface DocumentedEndpoint {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path relative to /api, e.g. /persons/:id */
  path: string;
  policy: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  status?: number;
  summary?: string;
  /** The success body; its `.meta({ description })` describes the response. */
  response?: z.ZodType;
  /** Whether an API token (Bearer) may call it, besides the session. */
  tokens?: boolean;
}

/** A list answer: `{ items, total, page, pageSize }`. */
export function pageOf(item: z.ZodType) {
  return z.object({
    items: z.array(item),
    total: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
  });
}

/**
 * Every JSON endpoint declared with endpoint() lands here, so the OpenAPI document is generated
 * from the same zod schemas that validate requests and cannot drift from them.
 */
const endpoints = new Map<string, DocumentedEndpoint>();

export function documentEndpoint(e: DocumentedEndpoint): void {
  endpoints.set(`${e.method} ${e.path}`, e);
}

const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input; details name the field',
  401: 'Not signed in',
  403: 'Signed in without the right role',
  404: 'Not found, or outside your scope',
  409: 'Conflict: code stale_version (details.current is the row now), anonymised, invalid_transition or conflict',
  422: 'Business rule refused (e.g. no consent)',
  429: 'Too many requests',
  503: 'A dependency is unavailable',
};

function objectOrUndefined(s: z.ZodType | undefined): z.ZodObject | undefined {
  // refine()/transform() wrap objects: only plain objects can describe params and query.
  return s instanceof z.ZodObject ? s : undefined;
}

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
    const responses: Record<
      string,
      { description: string; content?: Record<string, { schema: z.ZodType }> }
    > = {
      [String(e.status ?? 200)]: {
        description:
          (e.response?.meta()?.description as string | undefined) ??
          'Success (see the domain description in the spec)',
        ...(e.response ? { content: { 'application/json': { schema: e.response } } } : {}),
      },
    };
    for (const code of [400, 401, 403, 404, 409, 422, 429, 503]) {
      if (isPublic && (code === 401 || code === 403)) continue;
      responses[String(code)] = {
        description: STATUS_TEXT[code],
        content: { 'application/json': { schema: errorSchema } },
      };
    }
    registry.registerPath({
      method: e.method,
      path: `/api${e.path.replace(/:(\w+)/g, '{$1}')}`,
      summary: e.summary,
      description: `Policy: ${e.policy}`,
      security: isPublic ? [] : e.tokens ? [{ session: [] }, { bearer: [] }] : [{ session: [] }],
      request: {
        params: objectOrUndefined(e.params),
        query: objectOrUndefined(e.query),
        body: e.body ? { content: { 'application/json': { schema: e.body } } } : undefined,
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
        'JSON API of aller-vers. Errors are { "error": { "code", "message", "details"? } }. ' +
        'Lists are { items, total, page, pageSize }. Session cookie from POST /api/session; ' +
        'partner systems send an API token (POST /api/tokens) as "Authorization: Bearer <token>" ' +
        'to the referral endpoints, and get 403 token_scope anywhere else.',
    },
    servers: [{ url: info.serverUrl }],
  });
}
