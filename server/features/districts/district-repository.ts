import type { Knex } from 'knex';

/** A district (quartier) of a structure, with its QPV flag. */
export interface District {
  id: string;
  name: string;
  code: string | null;
  qpv: boolean;
  archivedAt: Date | null;
  version: number;
}

interface DistrictRow {
  id: string;
  structure_id: string;
  name: string;
  code: string | null;
  qpv: boolean;
  archived_at: Date | null;
  version: number;
}

/** What a change writes; an absent field stays as it is. */
export interface DistrictPatch {
  name?: string;
  code?: string | null;
  qpv?: boolean;
  archivedAt?: Date | null;
}

type Db = Knex | Knex.Transaction;

const toDistrict = (r: DistrictRow): District => ({
  id: r.id,
  name: r.name,
  code: r.code ?? null,
  qpv: Boolean(r.qpv),
  archivedAt: r.archived_at ?? null,
  version: r.version,
});

/** PostgreSQL's unique_violation, on the (structure_id, name) key. */
const isNameTaken = (err: unknown) =>
  (err as { code?: string; constraint?: string }).code === '23505' &&
  (err as { constraint?: string }).constraint === 'districts_structure_id_name_unique';

/** Districts (quartiers) belong to a structure; every query is scoped by it here. */
export function createDistrictRepository() {
  return {
    async list(db: Db, structureId: string, withArchived: boolean): Promise<District[]> {
      const q = db<DistrictRow>('districts').where({ structure_id: structureId });
      if (!withArchived) q.whereNull('archived_at');
      const rows = await q.orderBy('name').orderBy('id');
      return rows.map(toDistrict);
    },

    async findById(db: Db, structureId: string, id: string): Promise<District | null> {
      const row = await db<DistrictRow>('districts')
        .where({ structure_id: structureId, id })
        .first();
      return row ? toDistrict(row) : null;
    },

    async lock(trx: Knex.Transaction, structureId: string, id: string): Promise<District | null> {
      const row = await trx<DistrictRow>('districts')
        .where({ structure_id: structureId, id })
        .forUpdate()
        .first();
      return row ? toDistrict(row) : null;
    },

    /** Null when the name is taken in the structure (the unique key decides, not a prior read). */
    async insert(
      db: Db,
      structureId: string,
      d: { name: string; code: string | null; qpv: boolean },
    ): Promise<District | null> {
      const rows = (await db('districts')
        .insert({ structure_id: structureId, ...d })
        .onConflict(['structure_id', 'name'])
        .ignore()
        .returning('*')) as DistrictRow[];
      return rows[0] ? toDistrict(rows[0]) : null;
    },

    /**
     * Writes the change and moves the version (the caller holds the row's lock and checked it);
     * 'name_taken' when another district of the structure has the new name, in which case the
     * transaction is aborted and must end.
     */
    async update(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
      p: DistrictPatch,
    ): Promise<District | 'name_taken'> {
      try {
        const [row] = (await trx('districts')
          .where({ structure_id: structureId, id })
          .update({
            ...(p.name !== undefined ? { name: p.name } : {}),
            ...(p.code !== undefined ? { code: p.code } : {}),
            ...(p.qpv !== undefined ? { qpv: p.qpv } : {}),
            ...(p.archivedAt !== undefined ? { archived_at: p.archivedAt } : {}),
            version: trx.raw('version + 1'),
          })
          .returning('*')) as DistrictRow[];
        return toDistrict(row);
      } catch (err) {
        if (isNameTaken(err)) return 'name_taken';
        throw err;
      }
    },
  };
}

export type DistrictRepository = ReturnType<typeof createDistrictRepository>;
