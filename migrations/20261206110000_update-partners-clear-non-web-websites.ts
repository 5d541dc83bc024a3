import type { Knex } from 'knex';

/**
 * Data: a partner's website had to be a URL of any scheme, so `javascript:…`, `data:…` or
 * `file:…` addresses were accepted and handed to every structure reading the directory. A website
 * is now an http(s) address; the ones already stored that are not are cleared (the partner's
 * admin types the right one again). Leading blanks are tolerated, as a browser ignores them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex('partners')
    .whereNotNull('website')
    .andWhereRaw(`website !~* ?`, ['^\\s*https?://'])
    .update({ website: null, updated_at: knex.fn.now() });
}

/** What was cleared was unsafe to show and is not kept: nothing to put back. */
export async function down(): Promise<void> {}
