import type { Knex } from 'knex';

/**
 * The session store is connect-pg-simple, which reads and writes `expire` (connect-session-knex,
 * before it, used `expired`). Same table, same rows: sessions open at the switch stay open.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    t.renameColumn('expired', 'expire');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    t.renameColumn('expire', 'expired');
  });
}
