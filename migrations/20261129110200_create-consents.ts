import type { Knex } from 'knex';

/**
 * Consent per purpose and, for referrals, per partner. Revocation is a date, never a delete:
 * the history of what the person agreed to stays.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('consents', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.uuid('person_id').notNullable().references('persons.id').onDelete('CASCADE');
    t.text('purpose').notNullable();
    t.uuid('partner_id').references('partners.id').onDelete('RESTRICT');
    t.text('method').notNullable();
    // Which contact details the person agreed to share with the partner (phone, email, address).
    t.specificType('shared_fields', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('given_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.uuid('revoked_by').references('users.id').onDelete('SET NULL');
    t.uuid('recorded_by').references('users.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['person_id', 'purpose']);
    t.index(['partner_id']);
  });
  await knex.raw(
    "ALTER TABLE consents ADD CONSTRAINT consents_purpose_check CHECK (purpose IN ('referral','sms_contact','email_contact'))",
  );
  await knex.raw(
    "ALTER TABLE consents ADD CONSTRAINT consents_method_check CHECK (method IN ('oral','written'))",
  );
  await knex.raw(
    "ALTER TABLE consents ADD CONSTRAINT consents_partner_check CHECK ((purpose = 'referral') = (partner_id IS NOT NULL))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('consents');
}
