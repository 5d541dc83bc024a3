import type { Knex } from 'knex';
import { up } from '../../../migrations/20261216800000_update-structures-digest-time-within-working-hours';
import { withDefaults } from '../../../server/features/settings/settings-schemas';
import { testKnex } from '../../setup/db';
import { createStructure } from '../../setup/factories';

/**
 * The data migration that moves a digest time stored outside working hours to the start of the
 * working day, run in a transaction that is rolled back: the test database keeps its rows.
 */
describe('migration: a digest time outside working hours moves to their start', () => {
  async function inRolledBackTransaction(fn: (trx: Knex.Transaction) => Promise<void>) {
    const trx = await testKnex().transaction();
    try {
      await fn(trx);
    } finally {
      await trx.rollback();
    }
  }

  it('moves the digest times before the start or from the end on (at a new version), and keeps every other setting and structure as it was', async () => {
    await inRolledBackTransaction(async (trx) => {
      const stored: Record<string, object> = {
        early: { digestTime: '07:30', workingHours: { start: '09:00', end: '17:00' } },
        late: { digestTime: '17:00', workingHours: { start: '09:00', end: '17:00' } },
        // Saved before working hours were a setting: the default hours, 08:30 to 18:00.
        old: { digestTime: '07:00', noContactDays: 45 },
        within: { digestTime: '09:00', workingHours: { start: '09:00', end: '17:00' } },
        never: {},
      };
      const ids: Record<string, string> = {};
      for (const [name, settings] of Object.entries(stored)) {
        const s = await createStructure(trx);
        await trx('structures')
          .where({ id: s.id })
          .update({ settings: JSON.stringify({ ...settings, letterhead: { name } }) });
        ids[name] = s.id;
      }
      const read = async (name: string) =>
        trx('structures')
          .where({ id: ids[name] })
          .first('settings', 'settings_version', 'settings_updated_at');

      await up(trx);

      expect(await read('early')).toMatchObject({
        settings: { digestTime: '09:00', workingHours: { start: '09:00', end: '17:00' } },
        settings_version: 2,
      });
      expect(await read('late')).toMatchObject({
        settings: { digestTime: '09:00' },
        settings_version: 2,
      });
      const old = await read('old');
      expect(old).toMatchObject({
        settings: { digestTime: '08:30', noContactDays: 45, letterhead: { name: 'old' } },
        settings_version: 2,
      });
      expect(old.settings_updated_at).not.toBeNull();
      // What was moved now reads as stored, not as the defaults a broken rule would give.
      expect(withDefaults(old.settings)).toMatchObject({ digestTime: '08:30', noContactDays: 45 });
      for (const name of ['within', 'never']) {
        const row = await read(name);
        expect(row.settings).toEqual({ ...stored[name], letterhead: { name } });
        expect(row).toMatchObject({ settings_version: 1, settings_updated_at: null });
      }

      // Run twice, it finds nothing more to move.
      const after = await Promise.all(Object.keys(stored).map(read));
      await up(trx);
      expect(await Promise.all(Object.keys(stored).map(read))).toEqual(after);
    });
  });
});
