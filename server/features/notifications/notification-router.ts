import { Router } from 'express';
import { isAuthenticated } from '../../auth/policies';
import { endpoint } from '../../http/endpoint';
import {
  listNotificationsQuery,
  notificationListView,
  notificationParams,
  notificationView,
  readAllBody,
  readAllView,
} from './notification-schemas';
import type { NotificationService } from './notification-service';

export function notificationRouter(notifications: NotificationService): Router {
  const r = Router();
  endpoint(r, {
    method: 'get',
    path: '/notifications',
    policy: isAuthenticated(),
    query: listNotificationsQuery,
    summary: "The caller's notifications, newest first (unread=true: the unread ones)",
    response: notificationListView,
    handler: ({ actor, query }) => notifications.list(actor.id, query),
  });
  endpoint(r, {
    method: 'post',
    path: '/notifications/read-all',
    policy: isAuthenticated(),
    body: readAllBody,
    summary:
      'Marks every unread notification of the caller as read (with `before`, those that came by then); how many were',
    response: readAllView,
    handler: ({ actor, body }) => notifications.markAllRead(actor.id, body.before),
  });
  endpoint(r, {
    method: 'post',
    path: '/notifications/:id/read',
    policy: isAuthenticated(),
    params: notificationParams,
    summary: "Marks one of the caller's notifications as read",
    response: notificationView,
    handler: ({ actor, params }) => notifications.markRead(actor.id, params.id),
  });
  return r;
}
