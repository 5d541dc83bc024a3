import type { Knex } from 'knex';

/**
 * The notifications of a bulk reassignment (several follow-ups moved at once: about the manager
 * who moved them, subject type user) named up to ten persons in their body. No file leads
 * retention to them, so those names outlived the files' anonymisation. New ones name nobody;
 * the bodies written before are emptied (the title, which says how many and by whom, stays).
 */
export async function up(knex: Knex): Promise<void> {
  await knex('notifications')
    .where({ kind: 'follow_up.reassigned', subject_type: 'user' })
    .whereNotNull('body')
    .update({ body: null });
}

export async function down(): Promise<void> {
  // The names are gone for good: nothing to restore.
}
