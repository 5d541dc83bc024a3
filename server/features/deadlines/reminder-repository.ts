import type { Knex } from 'knex';
import { idIn } from '../../lib/id-list';

type Db = Knex | Knex.Transaction;

const LAST_CONTACT = '(SELECT max(c.occurred_at) FROM contacts c WHERE c.person_id = p.id)';

/**
 * What the reminder rules count from, read for many subjects in one query whatever their
 * number: persons' last contact and follow-ups' due moments.
 */
export function createReminderRepository() {
  const repo = {
    /**
     * Persons' last contact, or (`orCreation`) the file's creation when none was logged, as the
     * backlog counts. Persons out of scope (or without contact, without `orCreation`) are absent
     * from the map.
     */
    async lastContactsAt(
      db: Db,
      structureId: string,
      personIds: string[],
      orCreation = true,
    ): Promise<Map<string, Date>> {
      if (personIds.length === 0) return new Map();
      const rows: { id: string; last_at: Date | null }[] = await db('persons as p')
        .where('p.structure_id', structureId)
        .modify(idIn, 'p.id', personIds)
        .select(
          'p.id',
          orCreation
            ? db.raw(`coalesce(${LAST_CONTACT}, p.created_at) AS last_at`)
            : db.raw(`${LAST_CONTACT} AS last_at`),
        );
      return new Map(rows.filter((r) => r.last_at).map((r) => [r.id, new Date(r.last_at!)]));
    },

    /** One person's last contact (see lastContactsAt); null when there is none to count from. */
    async lastContactAt(
      db: Db,
      structureId: string,
      personId: string,
      orCreation = true,
    ): Promise<Date | null> {
      return (
        (await repo.lastContactsAt(db, structureId, [personId], orCreation)).get(personId) ?? null
      );
    },

    /** The due moment of each follow-up of the structure (absent when it no longer exists). */
    async followUpDueDates(db: Db, structureId: string, ids: string[]): Promise<Map<string, Date>> {
      if (ids.length === 0) return new Map();
      const rows: { id: string; due_at: Date }[] = await db('follow_ups')
        .where('structure_id', structureId)
        .modify(idIn, 'id', ids)
        .select('id', 'due_at');
      return new Map(rows.map((r) => [r.id, new Date(r.due_at)]));
    },
  };
  return repo;
}

export type ReminderRepository = ReturnType<typeof createReminderRepository>;
