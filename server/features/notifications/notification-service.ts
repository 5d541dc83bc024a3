import type { Knex } from 'knex';
import { PERSON_ROLES, type Role } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { NotFoundError } from '../../lib/errors';
import { type NotificationRepository, type NewNotification } from './notification-repository';
import type { ListNotificationsQuery } from './notification-schemas';

/**
 * Who may hold in-app notifications: staff and partner users. Every notice is about a person, a
 * follow-up, a referral or a report, and observers and admins get no person data (security
 * requirement 9): nothing in the product addresses them one, and a notice meant for someone whose
 * role changed since (a follow-up still assigned to a worker made observer) is not written.
 */
export const NOTIFIED_ROLES: readonly Role[] = [...PERSON_ROLES, 'partner'];

/** A user's in-app notifications: their own only (someone else's is not found). */
export function createNotificationService(deps: {
  knex: Knex;
  clock: Clock;
  notifications: NotificationRepository;
}) {
  const { notifications } = deps;

  /** The notices whose recipient may hold them, their users locked against a role change. */
  async function toNotified(trx: Knex.Transaction, ns: NewNotification[]) {
    if (ns.length === 0) return ns;
    const ids = [...new Set(ns.map((n) => n.recipientId))];
    const allowed = await notifications.lockRecipientsWithRole(trx, ids, NOTIFIED_ROLES);
    return ns.filter((n) => allowed.has(n.recipientId));
  }

  return {
    async list(recipientId: string, q: ListNotificationsQuery) {
      const res = await notifications.listForRecipient(deps.knex, recipientId, q);
      return { ...res, page: q.page, pageSize: q.pageSize };
    },
    /** What the page frame's badge shows: one count, without a page of notifications. */
    async unreadCount(recipientId: string) {
      return notifications.unreadCount(deps.knex, recipientId);
    },
    /**
     * Marks the caller's unread notifications read: all of them, or, with `before` (a list's
     * `newestUnreadAt`), those the list could show, so that one arriving since stays unread.
     * `unread` is what is left.
     */
    async markAllRead(recipientId: string, before?: Date) {
      const read = await notifications.markAllRead(
        deps.knex,
        recipientId,
        deps.clock.now(),
        before,
      );
      const unread = before ? await notifications.unreadCount(deps.knex, recipientId) : 0;
      return { read, unread };
    },
    /**
     * Inside the caller's transaction: once per (recipient, kind, subject, moment), and only to
     * a recipient of NOTIFIED_ROLES (null otherwise, as for a notice already written).
     */
    async notifyInTransaction(trx: Knex.Transaction, n: NewNotification) {
      const [kept] = await toNotified(trx, [n]);
      return kept ? notifications.insertOnce(trx, kept) : null;
    },
    /** The same for a batch, in one insert; returns how many were new. */
    async notifyManyInTransaction(trx: Knex.Transaction, ns: NewNotification[]) {
      return notifications.insertManyOnce(trx, await toNotified(trx, ns));
    },
    /**
     * Inside the caller's transaction (a user's role change): their notifications go when their
     * new role may hold none.
     */
    async forgetOnRoleChange(trx: Knex.Transaction, userId: string, role: Role) {
      if (!NOTIFIED_ROLES.includes(role)) await notifications.removeAllFor(trx, userId);
    },
    /** Inside the caller's transaction: a subject's notifications of kinds that no longer hold. */
    async withdrawInTransaction(
      trx: Knex.Transaction,
      kinds: readonly string[],
      subjectType: string,
      subjectId: string,
    ) {
      await notifications.removeForSubject(trx, kinds, subjectType, subjectId);
    },
    async markRead(recipientId: string, id: string) {
      const n = await notifications.markRead(deps.knex, recipientId, id, deps.clock.now());
      if (!n) throw new NotFoundError('Notification');
      return n;
    },
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
