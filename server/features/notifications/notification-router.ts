import { Router } from 'express';
import { isAuthenticated } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import { listNotificationsQuery, notificationParams } from './notification-schemas';
import type { NotificationService } from './notification-service';

export function notificationRouter(notifications: NotificationService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/notifications',
    policy: isAuthenticated(),
    query: listNotificationsQuery,
    handler: ({ actor, query }) => notifications.list(actor.id, query),
  });
  endpoint(r, {
    method: 'post',
    path: '/notifications/read-all',
    policy: isAuthenticated(),
    summary: 'Marks every unread notification of the caller as read; how many were',
    handler: ({ actor }) => notifications.markAllRead(actor.id),
  });
  endpoint(r, {
    method: 'post',
    path: '/notifications/:id/read',
    policy: isAuthenticated(),
    params: notificationParams,
    handler: ({ actor, params }) => notifications.markRead(actor.id, params.id),
  });
  return r;
}
