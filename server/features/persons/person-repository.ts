import type { Knex } from 'knex';
import type { Cipher } from '../../lib/crypto';
import type { PathStatus } from './person-schemas';
import { PERSON_STATUS_SQL } from './person-status';

export interface Person {
  id: string;
  structureId: string;
  alias: string | null;
  firstName: string | null;
  lastName: string | null;
  birthYear: number | null;
  gender: string | null;
  phone: string | null;
  email: string | null;
  address: string | null;
  districtId: string | null;
  districtName: string | null;
  districtQpv: boolean | null;
  householdType: string | null;
  source: string;
  referentId: string | null;
  referentName: string | null;
  pauseReminders: boolean;
  situation: string | null;
  status: PathStatus;
  closedAt: Date | null;
  closedReason: string | null;
  anonymisedAt: Date | null;
  version: number;
  lastActivityAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** Person columns in the API's camelCase, mapped once here. */
const COLUMNS: Record<string, string> = {
  alias: 'alias',
  firstName: 'first_name',
  lastName: 'last_name',
  birthYear: 'birth_year',
  gender: 'gender',
  phone: 'phone',
  email: 'email',
  address: 'address',
  districtId: 'district_id',
  householdType: 'household_type',
  source: 'source',
  referentId: 'referent_id',
  pauseReminders: 'pause_reminders',
  closedReason: 'closed_reason',
};

export type PersonWrite = Partial<{
  alias: string | null;
  firstName: string | null;
  lastName: string | null;
  birthYear: number | null;
  gender: string | null;
  phone: string | null;
  email: string | null;
  address: string | null;
  districtId: string | null;
  householdType: string | null;
  source: string;
  referentId: string | null;
  pauseReminders: boolean;
  situation: string | null;
  closedReason: string | null;
}>;

type Db = Knex | Knex.Transaction;

/** What the user typed is searched for literally: % and _ are not wildcards here. */
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

interface PersonSearch {
  q?: string;
  status?: PathStatus;
  districtId?: string;
  referentId?: string;
  /** A right's code, a right status, a non-take-up reason: persons with one right matching all. */
  right?: string;
  rightStatus?: string;
  reason?: string;
  page: number;
  pageSize: number;
}

/**
 * Every query is scoped by structure here, so no caller can forget it. Free text is encrypted
 * on the way in and decrypted on the way out.
 */
export function createPersonRepository(cipher: Cipher) {
  const toPerson = (r: Record<string, unknown>): Person => ({
    id: r.id as string,
    structureId: r.structure_id as string,
    alias: r.alias as string | null,
    firstName: r.first_name as string | null,
    lastName: r.last_name as string | null,
    birthYear: r.birth_year as number | null,
    gender: r.gender as string | null,
    phone: r.phone as string | null,
    email: r.email as string | null,
    address: r.address as string | null,
    districtId: r.district_id as string | null,
    districtName: (r.district_name as string | null) ?? null,
    districtQpv: (r.district_qpv as boolean | null) ?? null,
    householdType: r.household_type as string | null,
    source: r.source as string,
    referentId: r.referent_id as string | null,
    referentName: (r.referent_name as string | null) ?? null,
    pauseReminders: r.pause_reminders as boolean,
    situation: cipher.decryptOptional(r.situation_enc as string | null),
    status: r.status as PathStatus,
    closedAt: (r.closed_at as Date | null) ?? null,
    closedReason: r.closed_reason as string | null,
    anonymisedAt: (r.anonymised_at as Date | null) ?? null,
    version: r.version as number,
    lastActivityAt: r.last_activity_at as Date,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  });

  const toRow = (w: PersonWrite): Record<string, unknown> => {
    const row: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(w)) {
      if (value === undefined) continue;
      if (key === 'situation') row.situation_enc = cipher.encryptOptional(value as string | null);
      else if (COLUMNS[key]) row[COLUMNS[key]] = value;
    }
    return row;
  };

  const base = (db: Db, structureId: string) =>
    db('persons as p')
      .leftJoin('districts as d', 'd.id', 'p.district_id')
      .leftJoin('users as u', 'u.id', 'p.referent_id')
      .where('p.structure_id', structureId)
      .select(
        'p.*',
        'd.name as district_name',
        'd.qpv as district_qpv',
        'u.name as referent_name',
        db.raw(`${PERSON_STATUS_SQL} as status`),
      );

  return {
    async findById(db: Db, structureId: string, id: string): Promise<Person | null> {
      const row = await base(db, structureId).andWhere('p.id', id).first();
      return row ? toPerson(row) : null;
    },

    /** Locks the row of a person in scope for the rest of the transaction. */
    async lock(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<{
      id: string;
      version: number;
      referentId: string | null;
      pauseReminders: boolean;
    } | null> {
      const row = await trx('persons')
        .where({ id, structure_id: structureId })
        .forUpdate()
        .first('id', 'version', 'referent_id', 'pause_reminders');
      return row
        ? {
            id: row.id,
            version: row.version,
            referentId: row.referent_id,
            pauseReminders: row.pause_reminders,
          }
        : null;
    },

    async exists(db: Db, structureId: string, id: string): Promise<boolean> {
      return Boolean(await db('persons').where({ id, structure_id: structureId }).first('id'));
    },

    async insert(db: Db, structureId: string, createdBy: string, w: PersonWrite): Promise<string> {
      const [row] = await db('persons')
        .insert({ ...toRow(w), structure_id: structureId, created_by: createdBy })
        .returning('id');
      return row.id as string;
    },

    /**
     * Writes only if the version still matches; returns false on a stale version. `closing` sets
     * or clears the closing reason with its moment (null reopens the path).
     */
    async update(
      db: Db,
      structureId: string,
      id: string,
      version: number,
      w: PersonWrite,
      closing?: { reason: string | null; at: Date | null },
    ): Promise<boolean> {
      const n = await db('persons')
        .where({ id, structure_id: structureId, version })
        .update({
          ...toRow(w),
          ...(closing ? { closed_reason: closing.reason, closed_at: closing.at } : {}),
          version: db.raw('version + 1'),
          updated_at: db.fn.now(),
          last_activity_at: db.fn.now(),
        })
        .returning('id');
      return n.length === 1;
    },

    /** Every file of the structure whose référent is `from` passes to `to`; their ids. */
    async moveReferent(db: Db, structureId: string, from: string, to: string): Promise<string[]> {
      const rows = await db('persons')
        .where({ structure_id: structureId, referent_id: from })
        .update({ referent_id: to, version: db.raw('version + 1'), updated_at: db.fn.now() })
        .returning('id');
      return rows.map((r: { id: string }) => r.id);
    },

    async touch(db: Db, structureId: string, id: string, at: Date): Promise<void> {
      await db('persons')
        .where({ id, structure_id: structureId })
        .update({ last_activity_at: db.raw('greatest(last_activity_at, ?)', [at]) });
    },

    async search(
      db: Db,
      structureId: string,
      s: PersonSearch,
    ): Promise<{ items: Person[]; total: number }> {
      const q = base(db, structureId);
      // PostgreSQL text cannot hold U+0000 and no stored name does: drop it rather than fail.
      const term = s.q?.replaceAll('\u0000', '');
      if (term) {
        // Accent-insensitive substring or typo-tolerant word match (pg_trgm word similarity).
        q.andWhere((w) =>
          w
            .whereRaw("p.search_text LIKE '%' || av_normalize(?) || '%'", [escapeLike(term)])
            .orWhereRaw('av_normalize(?) <% p.search_text', [term]),
        );
      }
      if (s.status) q.andWhereRaw(`${PERSON_STATUS_SQL} = ?`, [s.status]);
      if (s.districtId) q.andWhere('p.district_id', s.districtId);
      if (s.referentId) q.andWhere('p.referent_id', s.referentId);
      if (s.right || s.rightStatus || s.reason) {
        q.whereExists((w) => {
          w.select(db.raw('1'))
            .from('person_rights as pr')
            .join('rights as rt', 'rt.id', 'pr.right_id')
            .whereRaw('pr.person_id = p.id')
            .andWhere('pr.structure_id', structureId);
          if (s.right) w.andWhere('rt.code', s.right);
          if (s.rightStatus) w.andWhere('pr.status', s.rightStatus);
          if (s.reason) w.andWhere('pr.reason', s.reason);
        });
      }
      const countQ = db
        .from(q.clone().clearSelect().clearOrder().select('p.id').as('x'))
        .count<{ count: number }[]>('* as count');
      if (term) q.orderByRaw('word_similarity(av_normalize(?), p.search_text) DESC', [term]);
      q.orderBy('p.last_activity_at', 'desc').orderBy('p.id');
      const [rows, [{ count }]] = await Promise.all([
        q.limit(s.pageSize).offset((s.page - 1) * s.pageSize),
        countQ,
      ]);
      return { items: rows.map(toPerson), total: Number(count) };
    },
  };
}

export type PersonRepository = ReturnType<typeof createPersonRepository>;
