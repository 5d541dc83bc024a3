import type { Knex } from 'knex';

/**
 * A referral may name the right it serves, a right of the referral's own structure (composite
 * key), so its outcome can propose that right's update.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('referrals', (t) => {
    t.uuid('right_id');
    t.foreign(['structure_id', 'right_id'], 'referrals_right_in_structure')
      .references(['structure_id', 'id'])
      .inTable('rights')
      .onDelete('RESTRICT');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('referrals', (t) => {
    t.dropForeign(['structure_id', 'right_id'], 'referrals_right_in_structure');
    t.dropColumn('right_id');
  });
}
