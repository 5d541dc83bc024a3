import type { Knex } from 'knex';

export interface District {
  id: string;
  name: string;
  code: string | null;
  qpv: boolean;
}

type Db = Knex | Knex.Transaction;

/** Districts (quartiers) belong to a structure; every query is scoped by it here. */
export function createDistrictRepository() {
  const repo = {
    async listForStructure(db: Db, structureId: string): Promise<District[]> {
      const rows = await db('districts')
        .where({ structure_id: structureId })
        .select('id', 'name', 'code', 'qpv')
        .orderBy('name')
        .orderBy('id');
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        code: r.code ?? null,
        qpv: Boolean(r.qpv),
      }));
    },

    async exists(db: Db, structureId: string, id: string): Promise<boolean> {
      return Boolean(await db('districts').where({ id, structure_id: structureId }).first('id'));
    },
  };
  return repo;
}

export type DistrictRepository = ReturnType<typeof createDistrictRepository>;
