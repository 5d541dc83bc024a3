import type { Knex } from 'knex';

/**
 * Data: the services whose response delay is 5 business days no longer set one, and follow
 * the referring structure's `referralResponseDays` from now on.
 *
 * A 5 stored so far cannot be told apart: it is what a service got when its admin left the
 * delay empty (the form said "5 si vous laissez vide", the API stored 5 for an absent field),
 * or a 5 typed on purpose. It is read as "no delay of its own" because 5 is the default the
 * spec gives the structure's setting too: where a structure kept it, nothing changes; where a
 * structure chose another delay, its choice now applies, as the admin who set it expected. A
 * service that really answers in 5 days there gets its 5 back by typing it again (its page now
 * says "délai de la structure"). Any other value was typed on purpose and is kept.
 *
 * The deadlines of referrals already made keep the moments they were planned at; a later
 * change of the structure's settings plans them again with the structure's delay.
 */
export async function up(knex: Knex): Promise<void> {
  await knex('partner_services')
    .where({ response_delay_days: 5 })
    .update({
      response_delay_days: null,
      version: knex.raw('version + 1'),
      updated_at: knex.fn.now(),
    });
}

/** A service without a delay of its own gets 5 again: what it had before. */
export async function down(knex: Knex): Promise<void> {
  await knex('partner_services')
    .whereNull('response_delay_days')
    .update({
      response_delay_days: 5,
      version: knex.raw('version + 1'),
      updated_at: knex.fn.now(),
    });
}
