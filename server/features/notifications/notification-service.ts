import type { Knex } from 'knex';
import type { Clock } from '../../lib/clock';
import { NotFoundError } from '../../lib/errors';
import { notificationRepository } from './notification-repository';
import type { ListNotificationsQuery } from './notification-schemas';

/** A user's in-app notifications: their own only (someone else's is not found). */
export function createNotificationService(deps: { knex: Knex; clock: Clock }) {
  return {
    async list(recipientId: string, q: ListNotificationsQuery) {
      const res = await notificationRepository.listForRecipient(deps.knex, recipientId, q);
      return { ...res, page: q.page, pageSize: q.pageSize };
    },
    /** What the page frame's badge shows: one count, without a page of notifications. */
    async unreadCount(recipientId: string) {
      return notificationRepository.unreadCount(deps.knex, recipientId);
    },
    async markRead(recipientId: string, id: string) {
      const n = await notificationRepository.markRead(deps.knex, recipientId, id, deps.clock.now());
      if (!n) throw new NotFoundError('Notification');
      return n;
    },
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
