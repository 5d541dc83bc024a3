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

/** A structure's settings live on its row (`structures.settings`, versioned). */
export const settingsRepository = {
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
