import type { Knex } from 'knex';
import { up } from '../../../migrations/20261206110000_update-partners-clear-non-web-websites';
import { testKnex } from '../../setup/db';
import { createStructure } from '../../setup/factories';

/**
 * The data migration that clears the partner websites which are not http(s) addresses, run in a
 * transaction that is rolled back: the test database keeps its rows whatever happens.
 */
describe('migration: partner websites are http(s) addresses', () => {
  async function inRolledBackTransaction(fn: (trx: Knex.Transaction) => Promise<void>) {
    const trx = await testKnex().transaction();
    try {
      await fn(trx);
    } finally {
      await trx.rollback();
    }
  }

  it('clears javascript:, data:, file: and other non-web addresses, keeps http(s) ones whatever their case, and leaves the rest of each partner alone', async () => {
    await inRolledBackTransaction(async (trx) => {
      const owner = await createStructure(trx);
      const websites: Record<string, string | null> = {
        script: 'javascript:alert(document.cookie)',
        scriptCase: 'JavaScript://partenaire.test/%0Aalert(1)',
        blankScript: '  javascript:alert(1)',
        data: 'data:text/html,<script>alert(1)</script>',
        file: 'file:///etc/passwd',
        ftp: 'ftp://partenaire.test',
        mail: 'mailto:contact@partenaire.test',
        https: 'https://www.partenaire.test/contact',
        http: 'http://partenaire.test',
        upper: 'HTTPS://PARTENAIRE.TEST',
        blankHttps: ' https://partenaire.test',
        none: null,
      };
      const long = new Date('2026-01-01T00:00:00Z');
      const rows = await trx('partners')
        .insert(
          Object.entries(websites).map(([name, website]) => ({
            name,
            email: `${name}@partenaire.test`,
            website,
            structure_id: owner.id,
            description: `Présentation de ${name}`,
            updated_at: long,
          })),
        )
        .returning(['id', 'name']);

      await up(trx);

      const after = await trx('partners').whereIn(
        'id',
        rows.map((r) => r.id),
      );
      const byName = Object.fromEntries(after.map((p) => [p.name, p]));
      const cleared = ['script', 'scriptCase', 'blankScript', 'data', 'file', 'ftp', 'mail'];
      for (const name of cleared) {
        expect({ name, website: byName[name].website }).toEqual({ name, website: null });
        // Changed, so the directory shows it was.
        expect(byName[name].updated_at.getTime()).toBeGreaterThan(long.getTime());
      }
      for (const name of ['https', 'http', 'upper', 'blankHttps']) {
        expect(byName[name].website).toBe(websites[name]);
        expect(byName[name].updated_at.getTime()).toBe(long.getTime());
      }
      expect(byName.none.website).toBeNull();
      expect(byName.none.updated_at.getTime()).toBe(long.getTime());
      // Nothing else of a partner moves.
      for (const p of after) expect(p.description).toBe(`Présentation de ${p.name}`);

      // Run twice, it finds nothing more to clear.
      await up(trx);
      const again = await trx('partners').whereIn(
        'id',
        rows.map((r) => r.id),
      );
      expect(again.map((p) => [p.name, p.website]).sort()).toEqual(
        after.map((p) => [p.name, p.website]).sort(),
      );
    });
  });
});
