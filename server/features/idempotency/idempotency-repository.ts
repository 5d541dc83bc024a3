import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

/** A key already taken: what it was taken for, and what its creation left (null until then). */
export interface TakenKey {
  action: string;
  fingerprint: string;
  result: Record<string, unknown> | null;
  createdAt: Date;
}

export function createIdempotencyRepository() {
  return {
    /**
     * Takes the user's key for a creation, in its transaction: true when taken now. False when
     * the key is already taken; a request in flight with the same key is waited for (the
     * primary key's lock), so its row is then there to read, or gone with its rollback and
     * taken here.
     */
    async claim(
      trx: Knex.Transaction,
      k: {
        userId: string;
        structureId: string;
        key: string;
        action: string;
        fingerprint: string;
        at: Date;
      },
    ): Promise<boolean> {
      const rows = await trx('idempotency_keys')
        .insert({
          user_id: k.userId,
          key: k.key,
          structure_id: k.structureId,
          action: k.action,
          fingerprint: k.fingerprint,
          created_at: k.at,
        })
        .onConflict(['user_id', 'key'])
        .ignore()
        .returning('key');
      return rows.length > 0;
    },

    /** What the creation that took the key left: the ids to answer a repeat with. */
    async keep(
      trx: Knex.Transaction,
      userId: string,
      key: string,
      result: Record<string, unknown>,
    ): Promise<void> {
      await trx('idempotency_keys')
        .where({ user_id: userId, key })
        .update({ result: JSON.stringify(result) });
    },

    async find(db: Db, userId: string, key: string): Promise<TakenKey | null> {
      const row = await db('idempotency_keys').where({ user_id: userId, key }).first();
      return row
        ? {
            action: row.action as string,
            fingerprint: row.fingerprint as string,
            result: (row.result as Record<string, unknown> | null) ?? null,
            createdAt: new Date(row.created_at as Date),
          }
        : null;
    },

    /** Removes the structure's keys taken before `before`; how many. */
    async purge(db: Db, structureId: string, before: Date): Promise<number> {
      return db('idempotency_keys')
        .where({ structure_id: structureId })
        .where('created_at', '<', before)
        .del();
    },

    /** How many the purge would remove (the dry run). */
    async countOlderThan(db: Db, structureId: string, before: Date): Promise<number> {
      const [{ n }] = await db('idempotency_keys')
        .where({ structure_id: structureId })
        .where('created_at', '<', before)
        .count<{ n: string }[]>('* as n');
      return Number(n);
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
