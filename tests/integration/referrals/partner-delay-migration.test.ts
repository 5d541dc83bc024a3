import type { Knex } from 'knex';
import { up } from '../../../migrations/20261214100100_update-partner-services-default-delay-to-null';
import { testKnex } from '../../setup/db';
import { createPartner } from '../../setup/factories';

interface ServiceRow {
  name: string;
  description: string;
  updated_at: Date;
  last_reviewed_at: Date;
}

/**
 * The data migration that reads a stored delay of 5 business days as "no delay of its own", run
 * in a transaction that is rolled back: the test database keeps its rows whatever happens.
 */
describe('migration: a service’s delay of 5 days becomes the structure’s delay', () => {
  async function inRolledBackTransaction(fn: (trx: Knex.Transaction) => Promise<void>) {
    const trx = await testKnex().transaction();
    try {
      await fn(trx);
    } finally {
      await trx.rollback();
    }
  }

  it('clears the delays of 5 (at a new version), keeps every other delay and the rest of each service', async () => {
    await inRolledBackTransaction(async (trx) => {
      const partner = await createPartner(trx, 'Banque alimentaire des Rives');
      const delays: Record<string, number | null> = {
        five: 5,
        three: 3,
        ten: 10,
        none: null,
      };
      const long = new Date('2026-01-01T00:00:00Z');
      const rows = await trx('partner_services')
        .insert(
          Object.entries(delays).map(([name, delay]) => ({
            partner_id: partner.id,
            name,
            themes: ['famille'],
            response_delay_days: delay,
            description: `Présentation de ${name}`,
            last_reviewed_at: long,
            updated_at: long,
          })),
        )
        .returning('id');
      const services = async (): Promise<Record<string, ServiceRow>> => {
        const all: ServiceRow[] = await trx('partner_services').whereIn(
          'id',
          rows.map((r) => r.id),
        );
        return Object.fromEntries(all.map((s) => [s.name, s]));
      };

      await up(trx);

      const after = await services();
      expect(after.five).toMatchObject({ response_delay_days: null, version: 2 });
      expect(after.five.updated_at.getTime()).toBeGreaterThan(long.getTime());
      for (const name of ['three', 'ten', 'none']) {
        expect(after[name]).toMatchObject({ response_delay_days: delays[name], version: 1 });
        expect(after[name].updated_at.getTime()).toBe(long.getTime());
      }
      for (const s of Object.values(after)) {
        expect(s.description).toBe(`Présentation de ${s.name}`);
        // Not a review: a stale service stays stale.
        expect(s.last_reviewed_at.getTime()).toBe(long.getTime());
      }

      // Run twice, it finds nothing more to clear.
      await up(trx);
      expect(await services()).toEqual(after);
    });
  });
});
