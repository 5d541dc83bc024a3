import type { Knex } from 'knex';

/**
 * Every partner of the directory gets an owning structure: only that structure's admins may
 * change it (its email receives the signed links of every structure's referrals). Reading the
 * directory stays global. The column, its backfill and NOT NULL are one migration: the column
 * cannot be NOT NULL before the backfill, and a database between the two would let any insert
 * leave a partner without an owner.
 *
 * Backfill: the structure of the admin who created the partner, from the earliest
 * `partner.create` audit event (the actor's structure, else the event's when the user is gone);
 * otherwise (created by a seed, or its event past retention) the oldest structure.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('partners', (t) => {
    t.uuid('structure_id').references('structures.id').onDelete('RESTRICT');
    t.index(['structure_id']);
  });
  await knex.raw(`
    UPDATE partners p
       SET structure_id = c.structure_id
      FROM (SELECT DISTINCT ON (e.subject_id)
                   e.subject_id AS partner_id, s.id AS structure_id
              FROM audit_events e
              LEFT JOIN users u ON u.id = e.actor_id
              JOIN structures s ON s.id = COALESCE(u.structure_id, e.structure_id)
             WHERE e.action = 'partner.create' AND e.subject_type = 'partner'
               AND e.subject_id IS NOT NULL
             ORDER BY e.subject_id, e.created_at, e.id) c
     WHERE p.id = c.partner_id AND p.structure_id IS NULL`);
  const [{ orphans }] = await knex('partners')
    .whereNull('structure_id')
    .count<{ orphans: string | number }[]>({ orphans: '*' });
  if (Number(orphans) > 0) {
    const oldest = await knex('structures').orderBy('created_at').orderBy('id').first('id');
    if (!oldest) {
      throw new Error(
        `${orphans} partner(s) but no structure to own them: create a structure, then migrate again`,
      );
    }
    await knex('partners').whereNull('structure_id').update({ structure_id: oldest.id });
  }
  await knex.raw('ALTER TABLE partners ALTER COLUMN structure_id SET NOT NULL');
}

/** Its index and foreign key go with the column. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('partners', (t) => {
    t.dropColumn('structure_id');
  });
}
