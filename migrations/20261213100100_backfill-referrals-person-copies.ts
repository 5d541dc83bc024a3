import type { Knex } from 'knex';

/**
 * The person copies (migration 20261213100000) of the referrals written before the triggers kept
 * them: one UPDATE from persons (a hundred thousand referrals at a million persons, a few
 * seconds), with the statement timeout lifted for this migration's own transaction. The UPDATE
 * names the copies, so the referrals' BEFORE trigger reads each from its person, locked.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('SET LOCAL statement_timeout = 0');
  await knex.raw(`
    UPDATE referrals r SET person_last_at = coalesce(p.last_contact_at, p.created_at),
           person_active = p.closed_at IS NULL AND p.anonymised_at IS NULL,
           person_referent_id = p.referent_id
      FROM persons p
     WHERE p.id = r.person_id`);
}

export async function down(): Promise<void> {
  // The columns go with the previous migration's rollback.
}
