import type { Knex } from 'knex';
import { pageWithTotal } from '../../lib/paging';

export interface Notification {
  id: string;
  kind: string;
  subjectType: string;
  subjectId: string;
  dueMoment: Date;
  title: string;
  body: string | null;
  link: string | null;
  readAt: Date | null;
  createdAt: Date;
}

export interface NewNotification {
  structureId: string;
  recipientId: string;
  kind: string;
  subjectType: string;
  subjectId: string;
  dueMoment: Date;
  title: string;
  body?: string | null;
  link?: string | null;
}

type Db = Knex | Knex.Transaction;

const toNotification = (r: Record<string, unknown>): Notification => ({
  id: r.id as string,
  kind: r.kind as string,
  subjectType: r.subject_type as string,
  subjectId: r.subject_id as string,
  dueMoment: r.due_moment as Date,
  title: r.title as string,
  body: (r.body as string | null) ?? null,
  link: (r.link as string | null) ?? null,
  readAt: (r.read_at as Date | null) ?? null,
  createdAt: r.created_at as Date,
});

/** The key that makes a notification once: a second insert of the same one is a no-op. */
const UNIQUE_KEY = ['recipient_id', 'kind', 'subject_id', 'due_moment'];

const toRow = (n: NewNotification) => ({
  structure_id: n.structureId,
  recipient_id: n.recipientId,
  kind: n.kind,
  subject_type: n.subjectType,
  subject_id: n.subjectId,
  due_moment: n.dueMoment,
  title: n.title,
  body: n.body ?? null,
  link: n.link ?? null,
});

export function createNotificationRepository() {
  const repo = {
    /** Inserts once: the unique key (recipient, kind, subject, due moment) makes a second call a no-op. */
    async insertOnce(db: Db, n: NewNotification): Promise<string | null> {
      const rows = await db('notifications')
        .insert(toRow(n))
        .onConflict(UNIQUE_KEY)
        .ignore()
        .returning('id');
      return rows[0]?.id ?? null;
    },

    /** Several at once, each once (the same unique key): one multi-row insert for a batch. */
    async insertManyOnce(db: Db, ns: NewNotification[]): Promise<number> {
      if (ns.length === 0) return 0;
      const rows = await db('notifications')
        .insert(ns.map(toRow))
        .onConflict(UNIQUE_KEY)
        .ignore()
        .returning('id');
      return rows.length;
    },

    /**
     * Of these users, those whose role is one of `roles`, locked FOR SHARE in id order: a change
     * of their role waits for the caller's transaction, and one already committed is seen.
     */
    async lockRecipientsWithRole(
      db: Db,
      ids: string[],
      roles: readonly string[],
    ): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows: { id: string }[] = await db('users')
        .whereIn('id', ids)
        .whereIn('role', roles)
        .orderBy('id')
        .forShare()
        .select('id');
      return new Set(rows.map((r) => r.id));
    },

    /** Every notification of a recipient: what they were told in a role they no longer hold. */
    async removeAllFor(db: Db, recipientId: string): Promise<number> {
      return db('notifications').where({ recipient_id: recipientId }).del();
    },

    async listForRecipient(
      db: Db,
      recipientId: string,
      opts: { unread?: boolean; page: number; pageSize: number },
    ) {
      const q = db('notifications').where({ recipient_id: recipientId });
      if (opts.unread) q.whereNull('read_at');
      const [{ rows, total }, unread] = await Promise.all([
        pageWithTotal(
          opts,
          (limit, offset) =>
            q.clone().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset),
          () =>
            q
              .clone()
              .count<{ count: string }[]>('* as count')
              .then(([r]) => r.count),
        ),
        repo.unreadState(db, recipientId),
      ]);
      return { items: rows.map(toNotification), total, ...unread };
    },

    async unreadCount(db: Db, recipientId: string): Promise<number> {
      const [{ unread }] = await db('notifications')
        .where({ recipient_id: recipientId })
        .whereNull('read_at')
        .count<{ unread: string }[]>('* as unread');
      return Number(unread);
    },

    /**
     * How many are unread, and when the newest of them came: what a "mark all read" sent from
     * a list stops at, so that a notice arriving after the list was read stays unread.
     */
    async unreadState(
      db: Db,
      recipientId: string,
    ): Promise<{ unread: number; newestUnreadAt: Date | null }> {
      const [row] = await db('notifications')
        .where({ recipient_id: recipientId })
        .whereNull('read_at')
        .select<{ unread: string; newest: Date | null }[]>(
          db.raw('count(*) AS unread'),
          db.raw('max(created_at) AS newest'),
        );
      return { unread: Number(row.unread), newestUnreadAt: row.newest ?? null };
    },

    /** A subject's notifications of kinds that no longer hold (a follow-up moved or rescheduled). */
    async removeForSubject(
      db: Db,
      kinds: readonly string[],
      subjectType: string,
      subjectId: string,
    ): Promise<void> {
      await db('notifications')
        .where({ subject_type: subjectType, subject_id: subjectId })
        .whereIn('kind', kinds)
        .del();
    },

    /**
     * Every unread notification of the recipient, or those that came by `before` when given, is
     * read now; how many were. A moment read from a row is to the millisecond, the column to the
     * microsecond: compared at the millisecond, the row it was read from is one of them.
     */
    async markAllRead(db: Db, recipientId: string, at: Date, before?: Date): Promise<number> {
      const q = db('notifications').where({ recipient_id: recipientId }).whereNull('read_at');
      if (before) q.whereRaw("date_trunc('milliseconds', created_at) <= ?", [before]);
      const rows = await q.update({ read_at: at }).returning('id');
      return rows.length;
    },

    /** Scoped by recipient: someone else's notification is not found. */
    async markRead(
      db: Db,
      recipientId: string,
      id: string,
      at: Date,
    ): Promise<Notification | null> {
      const [row] = await db('notifications')
        .where({ id, recipient_id: recipientId })
        .update({ read_at: db.raw('coalesce(read_at, ?)', [at]) })
        .returning('*');
      return row ? toNotification(row) : null;
    },
  };
  return repo;
}

export type NotificationRepository = ReturnType<typeof createNotificationRepository>;
