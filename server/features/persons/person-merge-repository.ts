import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

/** What a file holds besides its own row, counted for the merge page. */
export interface Holdings {
  contacts: number;
  followUps: number;
  openFollowUps: number;
  rights: number;
  consents: number;
  referrals: number;
}

/** How many rows of each table a merge moved to the kept file. */
export interface MergeMoves {
  contacts: number;
  followUps: number;
  consents: number;
  referrals: number;
  /** Rights tracked by the merged file only, moved as they were. */
  rights: number;
  /** Rights tracked by both files: one row kept (the one changed last), the other dropped. */
  rightConflicts: number;
  rightEvents: number;
  /** Reports triaged into the merged file. */
  reports: number;
  notifications: number;
  deadlines: number;
  earlierMerges: number;
}

/** A right tracked by both files, and which file's row was kept. */
export interface RightConflict {
  rightId: string;
  kept: 'kept' | 'merged';
}

/**
 * The tables of person data, moved row by row when two files are merged. Everything is scoped
 * by structure in the WHERE like any repository; the rows keep their ids, so what points at
 * them (deadlines of a follow-up or a referral, signed links, sent emails, notifications of a
 * follow-up) follows without a change.
 */
export function createPersonMergeRepository() {
  const count = async (db: Db, table: string, where: Record<string, unknown>) => {
    const [{ n }] = await db(table).where(where).count<{ n: string }[]>('* as n');
    return Number(n);
  };

  /** Moves every row of `table` of the merged person to the kept one; how many. */
  const moveRows = async (
    trx: Knex.Transaction,
    table: string,
    structureId: string,
    from: string,
    into: string,
  ) => {
    const rows = await trx(table)
      .where({ structure_id: structureId, person_id: from })
      .update({ person_id: into })
      .returning('id');
    return rows.length;
  };

  return {
    async holdings(db: Db, structureId: string, personId: string): Promise<Holdings> {
      const where = { structure_id: structureId, person_id: personId };
      const [contacts, followUps, openFollowUps, rights, consents, referrals] = await Promise.all([
        count(db, 'contacts', where),
        count(db, 'follow_ups', where),
        count(db, 'follow_ups', { ...where, status: 'open' }),
        count(db, 'person_rights', where),
        count(db, 'consents', where),
        count(db, 'referrals', where),
      ]);
      return { contacts, followUps, openFollowUps, rights, consents, referrals };
    },

    /**
     * Moves the merged file's contacts, follow-ups, consents, referrals and rights (with their
     * history) to the kept file. A right both files track keeps the row changed last (the
     * freshest knowledge of it; the kept file's on a tie) at a version above both, so a form
     * open on either answers 409; the other row goes, its history stays on the timeline.
     */
    async moveRows(
      trx: Knex.Transaction,
      structureId: string,
      from: string,
      into: string,
    ): Promise<{
      moves: Omit<MergeMoves, 'notifications' | 'deadlines' | 'earlierMerges'>;
      conflicts: RightConflict[];
    }> {
      const contacts = await moveRows(trx, 'contacts', structureId, from, into);
      // A rule's moment is unique per person: a follow-up both files' rules planned at the same
      // moment (files created together) moves without it, the kept file's own holding the rule.
      await trx('follow_ups')
        .where({ structure_id: structureId, person_id: from })
        .whereIn(
          'origin_due_at',
          trx('follow_ups')
            .where({ structure_id: structureId, person_id: into })
            .whereNotNull('origin_due_at')
            .select('origin_due_at'),
        )
        .update({ origin_due_at: null });
      const followUps = await moveRows(trx, 'follow_ups', structureId, from, into);
      const consents = await moveRows(trx, 'consents', structureId, from, into);
      const referrals = await moveRows(trx, 'referrals', structureId, from, into);
      // The reports triaged into the merged file now lead to the kept one.
      const reports = await moveRows(trx, 'reports', structureId, from, into);

      const both: Array<{
        right_id: string;
        kept_id: string;
        kept_version: number;
        kept_at: Date;
        merged_id: string;
        merged_version: number;
        merged_at: Date;
      }> = (
        await trx.raw(
          `SELECT k.right_id, k.id AS kept_id, k.version AS kept_version, k.updated_at AS kept_at,
                  m.id AS merged_id, m.version AS merged_version, m.updated_at AS merged_at
             FROM person_rights k
             JOIN person_rights m ON m.right_id = k.right_id
            WHERE k.structure_id = ? AND k.person_id = ?
              AND m.structure_id = ? AND m.person_id = ?
            ORDER BY k.right_id
              FOR UPDATE`,
          [structureId, into, structureId, from],
        )
      ).rows;
      const conflicts: RightConflict[] = [];
      for (const c of both) {
        const version = Math.max(c.kept_version, c.merged_version) + 1;
        const mergedWins = new Date(c.merged_at).getTime() > new Date(c.kept_at).getTime();
        await trx('person_rights')
          .where({ structure_id: structureId, id: mergedWins ? c.kept_id : c.merged_id })
          .delete();
        await trx('person_rights')
          .where({ structure_id: structureId, id: mergedWins ? c.merged_id : c.kept_id })
          .update({ person_id: into, version });
        conflicts.push({ rightId: c.right_id, kept: mergedWins ? 'merged' : 'kept' });
      }
      const rights = await moveRows(trx, 'person_rights', structureId, from, into);
      const rightEvents = await moveRows(trx, 'person_right_events', structureId, from, into);
      return {
        moves: {
          contacts,
          followUps,
          consents,
          referrals,
          rights,
          rightConflicts: conflicts.length,
          rightEvents,
          reports,
        },
        conflicts,
      };
    },

    /** The pending deadlines about the person itself (not its follow-ups or referrals). */
    async pendingPersonDeadlines(
      trx: Knex.Transaction,
      structureId: string,
      personId: string,
    ): Promise<Array<{ id: string; kind: string; dueAt: Date }>> {
      const rows = await trx('deadlines')
        .where({
          structure_id: structureId,
          subject_type: 'person',
          subject_id: personId,
          status: 'pending',
        })
        .select('id', 'kind', 'due_at');
      return rows.map((r) => ({ id: r.id, kind: r.kind, dueAt: new Date(r.due_at) }));
    },

    /** Whether the person already has this deadline pending (a re-plan must not double it). */
    async hasPendingPersonDeadline(
      trx: Knex.Transaction,
      structureId: string,
      personId: string,
      kind: string,
      dueAt: Date,
    ): Promise<boolean> {
      return Boolean(
        await trx('deadlines')
          .where({
            structure_id: structureId,
            subject_type: 'person',
            subject_id: personId,
            kind,
            status: 'pending',
            due_at: dueAt,
          })
          .first('id'),
      );
    },

    /** The past deadlines about the merged person (done, cancelled…) now belong to the kept one. */
    async movePastPersonDeadlines(
      trx: Knex.Transaction,
      structureId: string,
      from: string,
      into: string,
    ): Promise<number> {
      const rows = await trx('deadlines')
        .where({ structure_id: structureId, subject_type: 'person', subject_id: from })
        .whereNot('status', 'pending')
        .update({ subject_id: into })
        .returning('id');
      return rows.length;
    },

    /**
     * In-app notifications leading to the merged file lead to the kept one; those about the
     * person itself change subject. One the kept file has already (a notification is unique per
     * recipient, kind, subject and moment) told the same recipient the same thing about the same
     * person at the same moment: it is deleted, rather than left under the merged file's id,
     * where nothing would find it again (retention anonymises a file's notifications by its id).
     */
    async moveNotifications(
      trx: Knex.Transaction,
      structureId: string,
      from: string,
      into: string,
    ): Promise<number> {
      await trx('notifications as n')
        .where({ 'n.structure_id': structureId, 'n.subject_type': 'person', 'n.subject_id': from })
        .whereExists((q) =>
          q
            .select(trx.raw('1'))
            .from('notifications as o')
            .whereRaw('o.recipient_id = n.recipient_id AND o.kind = n.kind')
            .andWhereRaw('o.due_moment = n.due_moment')
            .andWhere('o.subject_id', into),
        )
        .del();
      const linked = await trx('notifications')
        .where({ structure_id: structureId })
        .andWhere((w) =>
          w
            .where('link', `/personnes/${from}`)
            .orWhere('link', 'like', `/personnes/${from}/%`)
            .orWhere('link', 'like', `/personnes/${from}#%`),
        )
        .update({ link: trx.raw('replace(link, ?, ?)', [from, into]) })
        .returning('id');
      const about = await trx('notifications')
        .where({ structure_id: structureId, subject_type: 'person', subject_id: from })
        .update({ subject_id: into })
        .returning('id');
      return new Set([...linked, ...about].map((r: { id: string }) => r.id)).size;
    },

    /** Files merged earlier into the merged one now lead to the kept one. */
    async passOnEarlierMerges(
      trx: Knex.Transaction,
      structureId: string,
      from: string,
      into: string,
    ): Promise<number> {
      const rows = await trx('person_merges')
        .where({ structure_id: structureId, kept_person_id: from })
        .update({ kept_person_id: into })
        .returning('merged_person_id');
      return rows.length;
    },

    async record(
      trx: Knex.Transaction,
      m: {
        structureId: string;
        mergedId: string;
        keptId: string;
        actorId: string;
        at: Date;
        moved: MergeMoves;
      },
    ): Promise<void> {
      await trx('person_merges').insert({
        merged_person_id: m.mergedId,
        structure_id: m.structureId,
        kept_person_id: m.keptId,
        merged_by: m.actorId,
        merged_at: m.at,
        moved: JSON.stringify(m.moved),
      });
    },

    /**
     * Every table whose foreign key names a person, and how many of its rows still name this
     * one. Read from the catalogue, so a table added later that the merge does not move yet
     * stops the merge instead of being emptied by the delete's cascade.
     */
    async leftBehind(
      trx: Knex.Transaction,
      personId: string,
    ): Promise<Array<{ table: string; column: string; rows: number }>> {
      const refs: Array<{ tbl: string; col: string }> = (
        await trx.raw(
          `SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
             FROM pg_constraint c
             JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attname = 'id'
             JOIN LATERAL unnest(c.confkey, c.conkey) AS k(fk, ck) ON k.fk = pa.attnum
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.ck
            WHERE c.contype = 'f' AND c.confrelid = 'persons'::regclass`,
        )
      ).rows;
      const out: Array<{ table: string; column: string; rows: number }> = [];
      for (const r of refs) {
        const n = await count(trx, r.tbl, { [r.col]: personId });
        if (n > 0) out.push({ table: r.tbl, column: r.col, rows: n });
      }
      return out;
    },

    async deletePerson(trx: Knex.Transaction, structureId: string, id: string): Promise<void> {
      await trx('persons').where({ structure_id: structureId, id }).delete();
    },

    /** The file a merged id now lives in, or null (never merged, or another structure's). */
    async keptFileOf(db: Db, structureId: string, mergedId: string): Promise<string | null> {
      const row = await db('person_merges')
        .where({ structure_id: structureId, merged_person_id: mergedId })
        .first('kept_person_id');
      return (row?.kept_person_id as string | undefined) ?? null;
    },

    /**
     * The ids a file's history was recorded under: its own and those of every file merged into
     * it (the audit trail is append-only, so its events keep the id they were written with).
     */
    async historyIds(db: Db, structureId: string, personId: string): Promise<string[]> {
      const rows = await db('person_merges')
        .where({ structure_id: structureId, kept_person_id: personId })
        .orderBy('merged_at')
        .select('merged_person_id');
      return [personId, ...rows.map((r) => r.merged_person_id as string)];
    },
  };
}

export type PersonMergeRepository = ReturnType<typeof createPersonMergeRepository>;
