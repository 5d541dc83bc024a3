import type { Knex } from 'knex';

/**
 * A person's consents and referrals, a referral's consent and a referral's events belong to one
 * structure: composite foreign keys on (structure_id, …) make PostgreSQL refuse a row that mixes
 * two structures, as migration 20261201100000 does for contacts and follow-ups. They replace the
 * single-column keys, with the same delete rules. The partner and the users acting on a referral
 * stay single-column keys: a partner's directory entry and its staff serve every structure.
 */
const SCOPED = [
  {
    table: 'consents',
    column: 'person_id',
    target: 'persons',
    onDelete: 'CASCADE',
    old: 'consents_person_id_foreign',
  },
  {
    table: 'referrals',
    column: 'person_id',
    target: 'persons',
    onDelete: 'CASCADE',
    old: 'referrals_person_id_foreign',
  },
  {
    table: 'referrals',
    column: 'consent_id',
    target: 'consents',
    onDelete: 'RESTRICT',
    old: 'referrals_consent_id_foreign',
  },
  {
    table: 'referral_events',
    column: 'referral_id',
    target: 'referrals',
    onDelete: 'CASCADE',
    old: 'referral_events_referral_id_foreign',
  },
] as const;

const scopedName = (s: (typeof SCOPED)[number]) => `${s.table}_${s.column}_in_structure`;

export async function up(knex: Knex): Promise<void> {
  // Checking every existing row reads the tables once: no statement timeout for this migration.
  await knex.raw('SET LOCAL statement_timeout = 0');
  for (const table of ['consents', 'referrals'])
    await knex.raw(
      `ALTER TABLE ${table} ADD CONSTRAINT ${table}_structure_id_id_unique UNIQUE (structure_id, id)`,
    );
  for (const s of SCOPED)
    await knex.raw(
      `ALTER TABLE ${s.table} DROP CONSTRAINT ${s.old}, ` +
        `ADD CONSTRAINT ${scopedName(s)} FOREIGN KEY (structure_id, ${s.column}) ` +
        `REFERENCES ${s.target} (structure_id, id) ON DELETE ${s.onDelete}`,
    );
}

export async function down(knex: Knex): Promise<void> {
  for (const s of [...SCOPED].reverse())
    await knex.raw(
      `ALTER TABLE ${s.table} DROP CONSTRAINT ${scopedName(s)}, ` +
        `ADD CONSTRAINT ${s.old} FOREIGN KEY (${s.column}) ` +
        `REFERENCES ${s.target} (id) ON DELETE ${s.onDelete}`,
    );
  for (const table of ['referrals', 'consents'])
    await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_structure_id_id_unique`);
}
