import { Router } from 'express';
import { z } from 'zod';
import { isAuthenticated } from '../../auth/policies';
import type { Clock } from '../../lib/clock';
import { NotFoundError } from '../../lib/errors';
import { endpoint } from '../../lib/http';
import { paging, uuid } from '../../lib/validate';
import type { Knex } from 'knex';
import { notificationRepository } from './notification-repository';

export const listNotificationsQuery = z
  .object({
    unread: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    ...paging,
  })
  .strict();

export function createNotificationService(deps: { knex: Knex; clock: Clock }) {
  return {
    async list(recipientId: string, q: z.infer<typeof listNotificationsQuery>) {
      const res = await notificationRepository.listForRecipient(deps.knex, recipientId, q);
      return { ...res, page: q.page, pageSize: q.pageSize };
    },
    async markRead(recipientId: string, id: string) {
      const n = await notificationRepository.markRead(deps.knex, recipientId, id, deps.clock.now());
      if (!n) throw new NotFoundError('Notification');
      return n;
    },
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;

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
    path: '/notifications/:id/read',
    policy: isAuthenticated(),
    params: z.object({ id: uuid() }).strict(),
    handler: ({ actor, params }) => notifications.markRead(actor.id, params.id),
  });
  return r;
}
