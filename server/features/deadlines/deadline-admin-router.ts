import { Router } from 'express';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import {
  deadlineParams,
  deadlineView,
  listDeadlinesQuery,
  type DeadlineAdminService,
} from './deadline-admin-service';

/** Admins: their structure's deadlines in difficulty, and a retry. */
export function deadlineAdminRouter(service: DeadlineAdminService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/deadlines',
    policy: hasRole('admin'),
    query: listDeadlinesQuery,
    summary:
      "The structure's deadlines: failing or failed (view=troubled, default), failed, pending or all",
    response: pageOf(deadlineView),
    handler: ({ actor, query }) => service.list(actor, query),
  });
  endpoint(r, {
    method: 'post',
    path: '/deadlines/:id/retry',
    policy: hasRole('admin'),
    params: deadlineParams,
    summary: 'Plans a failed or failing deadline again, due now if its moment passed',
    response: deadlineView,
    errors: [409],
    handler: ({ actor, params, ctx }) => service.retry(actor, params.id, ctx),
  });
  return r;
}
