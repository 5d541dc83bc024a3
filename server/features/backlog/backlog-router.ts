import { Router } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { pageOf } from '../../lib/openapi';
import { backlogItemsQuery, backlogItemView, backlogQuery, backlogView } from './backlog-schemas';
import type { BacklogService } from './backlog-service';

export function backlogRouter(backlog: BacklogService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/backlog',
    policy: hasRole('manager'),
    query: backlogQuery,
    summary:
      "Manager: the structure's open work per assignee, team, district or partner (optional teamId, repeated for several teams; absent, the whole structure): overdue follow-ups by age (d0_7, d8_30, d31_plus, Paris days), due this week, referrals past their response delay, persons without contact for 30-89 and 90+ days, reports to triage; each group has its key",
    response: backlogView,
    handler: ({ actor, query }) => backlog.summary(actor, query),
  });
  endpoint(r, {
    method: 'get',
    path: '/backlog/items',
    policy: hasRole('manager'),
    query: backlogItemsQuery,
    summary:
      "Manager: the items behind one number of the backlog (a group's key and a bucket, and the summary's teamId), paged",
    response: pageOf(backlogItemView).extend({ label: z.string().nullable() }),
    handler: ({ actor, query, ctx }) => backlog.items(actor, query, ctx),
  });
  return r;
}
