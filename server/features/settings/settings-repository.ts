import type { Knex } from 'knex';

export interface StoredSettings {
  settings: unknown;
  version: number;
  updatedAt: Date | null;
}

type Db = Knex | Knex.Transaction;

const toStored = (r: {
  settings: unknown;
  settings_version: number;
  settings_updated_at: Date | null;
}): StoredSettings => ({
  settings: r.settings,
  version: r.settings_version,
  updatedAt: r.settings_updated_at ? new Date(r.settings_updated_at) : null,
});

/** What anyone may know of a structure: its public name, slug and city. */
export interface PublicStructure {
  id: string;
  name: string;
  slug: string;
  city: string | null;
}

/** A structure's settings live on its row (`structures.settings`, versioned). */
export function createSettingsRepository() {
  const repo = {
    /**
     * A structure's public face and its settings: by slug, else by id, else the oldest structure
     * (a deployment's first, for visitors who name none). Null when it does not exist.
     */
    async readPublic(
      db: Db,
      ref: { slug?: string; id?: string },
    ): Promise<{ structure: PublicStructure; settings: unknown } | null> {
      const q = db('structures').first('id', 'name', 'slug', 'city', 'settings');
      if (ref.slug) q.where({ slug: ref.slug });
      else if (ref.id) q.where({ id: ref.id });
      else q.orderBy('created_at').orderBy('id');
      const row = await q;
      if (!row) return null;
      return {
        structure: { id: row.id, name: row.name, slug: row.slug, city: row.city ?? null },
        settings: row.settings,
      };
    },

    /** The structure's own name and city (a letter's default letterhead and place). */
    async identity(
      db: Db,
      structureId: string,
    ): Promise<{ name: string; city: string | null } | null> {
      const row = await db('structures').where({ id: structureId }).first('name', 'city');
      return row ? { name: row.name, city: row.city ?? null } : null;
    },

    async read(db: Db, structureId: string): Promise<StoredSettings | null> {
      const row = await db('structures')
        .where({ id: structureId })
        .first('settings', 'settings_version', 'settings_updated_at');
      return row ? toStored(row) : null;
    },

    async lock(trx: Knex.Transaction, structureId: string): Promise<StoredSettings | null> {
      const row = await trx('structures')
        .where({ id: structureId })
        .forUpdate()
        .first('settings', 'settings_version', 'settings_updated_at');
      return row ? toStored(row) : null;
    },

    async write(
      trx: Knex.Transaction,
      structureId: string,
      settings: unknown,
      version: number,
      at: Date,
    ): Promise<void> {
      await trx('structures')
        .where({ id: structureId, settings_version: version })
        .update({
          settings: JSON.stringify(settings),
          settings_version: version + 1,
          settings_updated_at: at,
        });
    },
  };
  return repo;
}

export type SettingsRepository = ReturnType<typeof createSettingsRepository>;
