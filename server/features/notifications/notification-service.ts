import type { Knex } from 'knex';
import type { Clock } from '../../lib/clock';
import { NotFoundError } from '../../lib/errors';
import { type NotificationRepository, type NewNotification } from './notification-repository';
import type { ListNotificationsQuery } from './notification-schemas';

/** A user's in-app notifications: their own only (someone else's is not found). */
export function createNotificationService(deps: {
  knex: Knex;
  clock: Clock;
  notifications: NotificationRepository;
}) {
  const { notifications } = deps;
  return {
    async list(recipientId: string, q: ListNotificationsQuery) {
      const res = await notifications.listForRecipient(deps.knex, recipientId, q);
      return { ...res, page: q.page, pageSize: q.pageSize };
    },
    /** What the page frame's badge shows: one count, without a page of notifications. */
    async unreadCount(recipientId: string) {
      return notifications.unreadCount(deps.knex, recipientId);
    },
    async markAllRead(recipientId: string) {
      const read = await notifications.markAllRead(deps.knex, recipientId, deps.clock.now());
      return { read, unread: 0 };
    },
    /** Inside the caller's transaction: once per (recipient, kind, subject, moment). */
    async notifyInTransaction(trx: Knex.Transaction, n: NewNotification) {
      return notifications.insertOnce(trx, n);
    },
    /** The same for a batch, in one insert; returns how many were new. */
    async notifyManyInTransaction(trx: Knex.Transaction, ns: NewNotification[]) {
      return notifications.insertManyOnce(trx, ns);
    },
    /** Inside the caller's transaction: a subject's notifications of a kind that no longer hold. */
    async withdrawInTransaction(
      trx: Knex.Transaction,
      kind: string,
      subjectType: string,
      subjectId: string,
    ) {
      await notifications.removeForSubject(trx, kind, subjectType, subjectId);
    },
    async markRead(recipientId: string, id: string) {
      const n = await notifications.markRead(deps.knex, recipientId, id, deps.clock.now());
      if (!n) throw new NotFoundError('Notification');
      return n;
    },
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
