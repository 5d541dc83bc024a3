import type { Knex } from 'knex';

/** A referral of a person to a partner, after the HL7 SDOH referral Task. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('referrals', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('structure_id').notNullable().references('structures.id').onDelete('RESTRICT');
    t.uuid('person_id').notNullable().references('persons.id').onDelete('CASCADE');
    t.uuid('partner_id').notNullable().references('partners.id').onDelete('RESTRICT');
    t.uuid('service_id').references('partner_services.id').onDelete('SET NULL');
    t.uuid('consent_id').notNullable().references('consents.id').onDelete('RESTRICT');
    t.uuid('requester_id').references('users.id').onDelete('SET NULL');
    t.text('status').notNullable().defaultTo('requested');
    // AES-256-GCM ciphertext: the reason and the summary are about the person.
    t.text('reason_enc').notNullable();
    t.text('shared_summary_enc');
    t.text('outcome_enc');
    t.text('status_reason_code');
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('responded_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['structure_id', 'status']);
    t.index(['structure_id', 'requester_id']);
    t.index(['person_id']);
  });
  await knex.raw(
    "ALTER TABLE referrals ADD CONSTRAINT referrals_status_check CHECK (status IN ('requested','accepted','rejected','cancelled','in_progress','on_hold','completed','failed','expired'))",
  );
  // The partner inbox reads its referrals across structures, newest first.
  await knex.raw('CREATE INDEX referrals_partner_inbox ON referrals (partner_id, created_at DESC)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('referrals');
}
