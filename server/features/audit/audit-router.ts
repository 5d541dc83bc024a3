import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import { auditEventView, auditQuery } from './audit-schemas';
import type { AuditService } from './audit-service';

export function auditRouter(audit: AuditService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/audit',
    policy: hasRole('manager', 'admin'),
    query: auditQuery,
    summary:
      "The structure's audit events, newest first, by person (manager only; with the files merged into it and its referrals; a merged file's id gives the kept file's), user and period (Paris days, inclusive). Admins get person-data events without subject or details",
    response: pageOf(auditEventView),
    handler: ({ actor, query, ctx }) => audit.list(actor, query, ctx),
  });
  return r;
}
