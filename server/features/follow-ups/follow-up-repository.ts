import type { Knex } from 'knex';
import { pageWithTotal } from '../../lib/paging';
import { personLabelSql } from '../persons/person-label';
import type { FollowUpStatus } from './follow-up-schemas';

export interface FollowUp {
  id: string;
  personId: string;
  personLabel: string | null;
  assigneeId: string;
  assigneeName: string | null;
  createdBy: string | null;
  contactId: string | null;
  title: string;
  dueAt: Date;
  status: FollowUpStatus;
  completedAt: Date | null;
  /** The note left when it was marked done, still encrypted: the service decrypts it. */
  completionNoteEnc: string | null;
  overdue: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

type Db = Knex | Knex.Transaction;

/** A follow-up's row as a write locks it: what the rules read before changing it. */
export interface LockedFollowUp {
  id: string;
  personId: string;
  assigneeId: string;
  createdBy: string | null;
  dueAt: Date;
  status: FollowUpStatus;
  version: number;
}

/** What a change may set; the repository maps it to columns. */
export interface FollowUpPatch {
  title?: string;
  assigneeId?: string;
  dueAt?: Date;
  status?: FollowUpStatus;
  completedAt?: Date | null;
  /** Already encrypted by the service. */
  completionNoteEnc?: string | null;
}

const PATCH_COLUMNS: Record<keyof FollowUpPatch, string> = {
  title: 'title',
  assigneeId: 'assignee_id',
  dueAt: 'due_at',
  status: 'status',
  completedAt: 'completed_at',
  completionNoteEnc: 'completion_note_enc',
};

interface FollowUpFilter {
  assigneeId?: string;
  status: FollowUpStatus;
  personId?: string;
  /** Due strictly before this moment. */
  dueBefore?: Date;
  /** Due at or after this moment. */
  dueFrom?: Date;
  page: number;
  pageSize: number;
}

const toFollowUp = (r: Record<string, unknown>, now: Date): FollowUp => ({
  id: r.id as string,
  personId: r.person_id as string,
  personLabel: (r.person_label as string | null) ?? null,
  assigneeId: r.assignee_id as string,
  assigneeName: (r.assignee_name as string | null) ?? null,
  createdBy: r.created_by as string | null,
  contactId: r.contact_id as string | null,
  title: r.title as string,
  dueAt: r.due_at as Date,
  status: r.status as FollowUpStatus,
  completedAt: (r.completed_at as Date | null) ?? null,
  completionNoteEnc: (r.completion_note_enc as string | null) ?? null,
  // Derived, never stored: open and past due.
  overdue: r.status === 'open' && new Date(r.due_at as Date).getTime() < now.getTime(),
  version: r.version as number,
  createdAt: r.created_at as Date,
  updatedAt: r.updated_at as Date,
});

/** Follow-ups, always scoped by structure. */
export function createFollowUpRepository() {
  const repo = {
    base(db: Db, structureId: string) {
      return db('follow_ups as f')
        .join('persons as p', 'p.id', 'f.person_id')
        .leftJoin('users as u', 'u.id', 'f.assignee_id')
        .where('f.structure_id', structureId)
        .select('f.*', 'u.name as assignee_name', db.raw(`${personLabelSql('p')} as person_label`));
    },

    async insert(
      db: Db,
      structureId: string,
      f: {
        personId: string;
        assigneeId: string;
        createdBy: string;
        contactId?: string | null;
        originDeadlineId?: string | null;
        originDueAt?: Date | null;
        title: string;
        dueAt: Date;
      },
    ): Promise<string> {
      const [row] = await db('follow_ups')
        .insert({
          structure_id: structureId,
          person_id: f.personId,
          assignee_id: f.assigneeId,
          created_by: f.createdBy,
          contact_id: f.contactId ?? null,
          ...(f.originDeadlineId ? { origin_deadline_id: f.originDeadlineId } : {}),
          ...(f.originDueAt ? { origin_due_at: f.originDueAt } : {}),
          title: f.title,
          due_at: f.dueAt,
        })
        .returning('id');
      return row.id as string;
    },

    async findById(db: Db, structureId: string, id: string, now: Date): Promise<FollowUp | null> {
      const row = await this.base(db, structureId).andWhere('f.id', id).first();
      return row ? toFollowUp(row, now) : null;
    },

    /**
     * Locks several follow-ups of the structure in id order and reads them, in one query: two
     * batches, or a batch and a bulk move (`lockOpen`, also in id order), never deadlock.
     */
    async lockMany(
      trx: Knex.Transaction,
      structureId: string,
      ids: string[],
      now: Date,
    ): Promise<FollowUp[]> {
      if (ids.length === 0) return [];
      const rows = await this.base(trx, structureId)
        .whereIn('f.id', ids)
        .orderBy('f.id')
        .forUpdate('f');
      return rows.map((r) => toFollowUp(r, now));
    },

    /**
     * Whether a rule already planned a follow-up for this person at this moment (its origin's
     * moment, unique per person), whichever of the rule's rows did.
     */
    async hasOrigin(
      db: Knex | Knex.Transaction,
      structureId: string,
      personId: string,
      dueAt: Date,
    ): Promise<boolean> {
      return Boolean(
        await db('follow_ups')
          .where({ structure_id: structureId, person_id: personId, origin_due_at: dueAt })
          .first('id'),
      );
    },

    async lock(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<LockedFollowUp | null> {
      const r = await trx('follow_ups')
        .where({ id, structure_id: structureId })
        .forUpdate()
        .first();
      return r
        ? {
            id: r.id,
            personId: r.person_id,
            assigneeId: r.assignee_id,
            createdBy: r.created_by,
            dueAt: new Date(r.due_at),
            status: r.status,
            version: r.version,
          }
        : null;
    },

    async update(db: Db, structureId: string, id: string, patch: FollowUpPatch): Promise<void> {
      const row: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(patch))
        if (value !== undefined) row[PATCH_COLUMNS[key as keyof FollowUpPatch]] = value;
      await db('follow_ups')
        .where({ id, structure_id: structureId })
        .update({ ...row, version: db.raw('version + 1'), updated_at: db.fn.now() });
    },

    async list(
      db: Db,
      structureId: string,
      f: FollowUpFilter,
      now: Date,
    ): Promise<{ items: FollowUp[]; total: number }> {
      const q = this.base(db, structureId);
      if (f.assigneeId) q.andWhere('f.assignee_id', f.assigneeId);
      if (f.personId) q.andWhere('f.person_id', f.personId);
      q.andWhere('f.status', f.status);
      if (f.dueBefore) q.andWhere('f.due_at', '<', f.dueBefore);
      if (f.dueFrom) q.andWhere('f.due_at', '>=', f.dueFrom);
      const { rows, total } = await pageWithTotal(
        f,
        (limit, offset) =>
          q.clone().orderBy('f.due_at', 'asc').orderBy('f.id').limit(limit).offset(offset),
        () =>
          q
            .clone()
            .clearSelect()
            .count<{ count: string }[]>('f.id as count')
            .then(([r]) => r.count),
      );
      return { items: rows.map((r) => toFollowUp(r, now)), total };
    },

    /**
     * Open follow-ups to move, locked in id order (two bulk moves never deadlock): the ones given
     * by id, or every open one of an assignee, optionally only those of one person.
     */
    async lockOpen(
      trx: Knex.Transaction,
      structureId: string,
      by: { ids: string[] } | { assigneeId: string; personId?: string },
    ): Promise<
      { id: string; personId: string; assigneeId: string; dueAt: Date; status: FollowUpStatus }[]
    > {
      const q = trx('follow_ups').where({ structure_id: structureId });
      if ('ids' in by) q.whereIn('id', by.ids);
      else {
        q.where({ assignee_id: by.assigneeId, status: 'open' });
        if (by.personId) q.andWhere('person_id', by.personId);
      }
      const rows = await q
        .orderBy('id')
        .forUpdate()
        .select('id', 'person_id', 'assignee_id', 'due_at', 'status');
      return rows.map((r) => ({
        id: r.id,
        personId: r.person_id,
        assigneeId: r.assignee_id,
        dueAt: r.due_at,
        status: r.status,
      }));
    },

    async reassign(trx: Knex.Transaction, structureId: string, ids: string[], assigneeId: string) {
      if (ids.length === 0) return;
      await trx('follow_ups')
        .where({ structure_id: structureId })
        .whereIn('id', ids)
        .update({
          assignee_id: assigneeId,
          version: trx.raw('version + 1'),
          updated_at: trx.fn.now(),
        });
    },

    /** Who holds open follow-ups in the structure, disabled users included (a leaver's work). */
    async holders(db: Db, structureId: string): Promise<{ id: string; name: string }[]> {
      return db('users as u')
        .where('u.structure_id', structureId)
        .whereExists(
          db('follow_ups as f')
            .whereRaw('f.assignee_id = u.id')
            .andWhere({ 'f.structure_id': structureId, 'f.status': 'open' }),
        )
        .orderBy('u.name')
        .select('u.id', 'u.name');
    },

    /** How many open follow-ups a user holds (a leaver's work to move). */
    async countOpenOf(db: Db, structureId: string, assigneeId: string): Promise<number> {
      const [{ n }] = await db('follow_ups')
        .where({ structure_id: structureId, assignee_id: assigneeId, status: 'open' })
        .count<{ n: string }[]>('* as n');
      return Number(n);
    },

    /** Follow-ups by id (a timeline page). */
    async byIds(db: Db, structureId: string, ids: string[], now: Date): Promise<FollowUp[]> {
      const rows = await this.base(db, structureId).whereIn('f.id', ids);
      return rows.map((r) => toFollowUp(r, now));
    },
  };
  return repo;
}

export type FollowUpRepository = ReturnType<typeof createFollowUpRepository>;
