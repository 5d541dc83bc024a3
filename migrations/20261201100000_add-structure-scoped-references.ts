import type { Knex } from 'knex';
import { requireSupportedPostgres } from '../server/lib/postgres-version';

/**
 * A person's contacts and follow-ups, a follow-up's assignee and a person's referent belong to
 * the person's structure: composite foreign keys on (structure_id, …) make PostgreSQL refuse a
 * row that mixes two structures, whatever the code above it does. They replace the single-column
 * keys, with the same delete rules. Referral tables are left alone (partners span structures).
 */
const SCOPED = [
  {
    table: 'contacts',
    column: 'person_id',
    target: 'persons',
    onDelete: 'CASCADE',
    old: { name: 'contacts_person_id_foreign', onDelete: 'CASCADE' },
  },
  {
    table: 'follow_ups',
    column: 'person_id',
    target: 'persons',
    onDelete: 'CASCADE',
    old: { name: 'follow_ups_person_id_foreign', onDelete: 'CASCADE' },
  },
  {
    table: 'follow_ups',
    column: 'assignee_id',
    target: 'users',
    onDelete: 'RESTRICT',
    old: { name: 'follow_ups_assignee_id_foreign', onDelete: 'RESTRICT' },
  },
  {
    table: 'persons',
    column: 'referent_id',
    target: 'users',
    // Only the referent goes when its user does (PostgreSQL 15+), the structure stays.
    onDelete: 'SET NULL (referent_id)',
    old: { name: 'persons_referent_id_foreign', onDelete: 'SET NULL' },
  },
] as const;

const scopedName = (s: (typeof SCOPED)[number]) => `${s.table}_${s.column}_in_structure`;

export async function up(knex: Knex): Promise<void> {
  // SET NULL (referent_id) is a syntax error before PostgreSQL 15: say so plainly instead.
  await requireSupportedPostgres(knex);
  await knex.raw(
    'ALTER TABLE persons ADD CONSTRAINT persons_structure_id_id_unique UNIQUE (structure_id, id)',
  );
  await knex.raw(
    'ALTER TABLE users ADD CONSTRAINT users_structure_id_id_unique UNIQUE (structure_id, id)',
  );
  for (const s of SCOPED) {
    await knex.raw(
      `ALTER TABLE ${s.table} DROP CONSTRAINT ${s.old.name}, ` +
        `ADD CONSTRAINT ${scopedName(s)} FOREIGN KEY (structure_id, ${s.column}) ` +
        `REFERENCES ${s.target} (structure_id, id) ON DELETE ${s.onDelete}`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const s of [...SCOPED].reverse()) {
    await knex.raw(
      `ALTER TABLE ${s.table} DROP CONSTRAINT ${scopedName(s)}, ` +
        `ADD CONSTRAINT ${s.old.name} FOREIGN KEY (${s.column}) ` +
        `REFERENCES ${s.target} (id) ON DELETE ${s.old.onDelete}`,
    );
  }
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_structure_id_id_unique');
  await knex.raw('ALTER TABLE persons DROP CONSTRAINT persons_structure_id_id_unique');
}
