import type { Request } from 'express';
import type { RequestContext } from '../features/audit/audit-trail';

/** Where a request came from, read at the HTTP edge and carried down to the audit trail. */
export const requestContext = (req: Request): RequestContext => ({ ip: req.ip ?? null });
