import type { Knex } from 'knex';

/**
 * A phone number as typed ("06 12 34 56 78", "+33 6 12 34 56 78") reduced to its last nine
 * digits, so one number written two ways is recognised as the same by the duplicates check.
 * Indexed within the structure: the check looks it up among possibly tens of thousands of files.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE persons ADD COLUMN phone_key text GENERATED ALWAYS AS (
      nullif(right(regexp_replace(phone, '[^0-9]', '', 'g'), 9), '')
    ) STORED
  `);
  await knex.raw(
    'CREATE INDEX persons_structure_phone_key ON persons (structure_id, phone_key) WHERE phone_key IS NOT NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE persons DROP COLUMN phone_key');
}
