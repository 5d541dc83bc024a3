import type { Knex } from 'knex';
import { down, up } from '../../../migrations/20261201130000_alter-partners-add-structure';
import { testKnex } from '../../setup/db';

/**
 * The migration that gives each partner an owning structure, run down then up inside a
 * transaction that is rolled back: the test database keeps its schema whatever happens.
 */
describe('migration: partners get an owning structure', () => {
  async function inRolledBackTransaction(fn: (trx: Knex.Transaction) => Promise<void>) {
    const trx = await testKnex().transaction();
    try {
      await fn(trx);
    } finally {
      await trx.rollback();
    }
  }

  const countOf = async (trx: Knex.Transaction, table: string) =>
    Number((await trx(table).count({ n: '*' }))[0].n);

  const columnOf = async (trx: Knex.Transaction) =>
    (
      await trx.raw(
        `SELECT is_nullable FROM information_schema.columns
          WHERE table_name = 'partners' AND column_name = 'structure_id'`,
      )
    ).rows[0] as { is_nullable: string } | undefined;

  it('when the database is empty, then it goes down and up, and the column is NOT NULL', async () => {
    await inRolledBackTransaction(async (trx) => {
      expect(await countOf(trx, 'partners')).toBe(0);
      await down(trx);
      expect(await columnOf(trx)).toBeUndefined();
      await up(trx);
      expect(await columnOf(trx)).toEqual({ is_nullable: 'NO' });
    });
  });

  it('when partners exist, then each is owned by its creator’s structure (from the partner.create event), else by the oldest structure; a partner without an owner is refused afterwards', async () => {
    await inRolledBackTransaction(async (trx) => {
      await down(trx);
      // One transaction gives every row the same now(): the ages are explicit.
      const [oldest, creators, gone] = await trx('structures')
        .insert([
          { name: 'CCAS d’Angers', slug: 'm-angers', created_at: '2026-01-01T00:00:00Z' },
          { name: 'CCAS de Trélazé', slug: 'm-trelaze', created_at: '2026-02-01T00:00:00Z' },
          { name: 'CIAS Loire', slug: 'm-loire', created_at: '2026-03-01T00:00:00Z' },
        ])
        .returning('id');
      const [admin] = await trx('users')
        .insert({
          structure_id: creators.id,
          role: 'admin',
          name: 'Admin Trélazé',
          email: 'admin-migration@trelaze.test',
          password_hash: 'x',
        })
        .returning('id');
      const [created, seeded, creatorGone, createdTwice] = await trx('partners')
        .insert(
          [
            'Créé à Trélazé',
            'Semé par la démo',
            'Créé par un compte supprimé',
            'Créé deux fois',
          ].map((name) => ({ name, email: 'contact@partner.test' })),
        )
        .returning('id');
      await trx('audit_events').insert([
        {
          structure_id: creators.id,
          actor_id: admin.id,
          actor_role: 'admin',
          action: 'partner.create',
          subject_type: 'partner',
          subject_id: created.id,
        },
        // The user was deleted (actor_id SET NULL): the event's structure stands.
        {
          structure_id: gone.id,
          actor_id: null,
          actor_role: 'admin',
          action: 'partner.create',
          subject_type: 'partner',
          subject_id: creatorGone.id,
        },
        // Only an update by someone else: not a creation.
        {
          structure_id: gone.id,
          actor_id: null,
          actor_role: 'admin',
          action: 'partner.update',
          subject_type: 'partner',
          subject_id: seeded.id,
        },
        {
          structure_id: creators.id,
          actor_id: admin.id,
          actor_role: 'admin',
          action: 'partner.create',
          subject_type: 'partner',
          subject_id: createdTwice.id,
          created_at: '2026-04-01T00:00:00Z',
        },
        {
          structure_id: gone.id,
          actor_id: null,
          actor_role: 'admin',
          action: 'partner.create',
          subject_type: 'partner',
          subject_id: createdTwice.id,
          created_at: '2026-05-01T00:00:00Z',
        },
      ]);

      await up(trx);

      const owners = Object.fromEntries(
        (await trx('partners').select('id', 'structure_id')).map((r) => [r.id, r.structure_id]),
      );
      expect(owners).toEqual({
        [created.id]: creators.id,
        [seeded.id]: oldest.id,
        [creatorGone.id]: gone.id,
        [createdTwice.id]: creators.id,
      });
      expect(await columnOf(trx)).toEqual({ is_nullable: 'NO' });
      await expect(
        trx.transaction((sp) => sp('partners').insert({ name: 'Sans', email: 's@partner.test' })),
      ).rejects.toThrow(/null value in column "structure_id"/);
      await expect(
        trx.transaction((sp) =>
          sp('partners').insert({
            name: 'Inconnue',
            email: 'i@partner.test',
            structure_id: '00000000-0000-4000-8000-000000000000',
          }),
        ),
      ).rejects.toThrow(/foreign key/);

      await down(trx);
      expect(await columnOf(trx)).toBeUndefined();
      expect(await countOf(trx, 'partners')).toBe(4);
    });
  });

  it('when partners exist but no structure, then the migration says what to do', async () => {
    await inRolledBackTransaction(async (trx) => {
      await down(trx);
      await trx('partners').insert({ name: 'Orphelin', email: 'o@partner.test' });
      await expect(up(trx)).rejects.toThrow(/no structure to own them: create a structure/);
    });
  });
});
