import type { Knex } from 'knex';

/**
 * The optional second factor (TOTP, RFC 6238). The secret is encrypted at rest with the app's
 * cipher (`v1.<iv>.<tag>.<ciphertext>`); a secret being enrolled waits in `totp_pending_secret`
 * until the user confirms it with a first code. `totp_last_step` is the time step of the last code
 * accepted: a code of that step or an earlier one is refused, so a code cannot be replayed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    // totp_secret exists since the users table was created, unused until now.
    t.text('totp_pending_secret');
    t.timestamp('totp_enabled_at', { useTz: true });
    t.bigInteger('totp_last_step');
  });
  await knex.raw(
    'ALTER TABLE users ADD CONSTRAINT users_totp_enabled_check CHECK ((totp_secret IS NULL) = (totp_enabled_at IS NULL))',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users DROP CONSTRAINT IF EXISTS users_totp_enabled_check');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('totp_pending_secret');
    t.dropColumn('totp_enabled_at');
    t.dropColumn('totp_last_step');
  });
}
