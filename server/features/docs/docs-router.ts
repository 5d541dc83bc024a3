import { Router } from 'express';
import { isPublic } from '../../auth/policies';
import { buildOpenApiDocument } from '../../lib/openapi';

/** The OpenAPI document, generated from the zod schemas of every endpoint. */
export function docsRouter(info: { version: string; serverUrl: string }): Router {
  const r = Router();
  let cached: unknown = null;
  r.get('/docs', isPublic(), (_req, res) => {
    cached ??= buildOpenApiDocument(info);
    res.json(cached);
  });
  return r;
}
