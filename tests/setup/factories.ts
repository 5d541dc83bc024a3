import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Role } from '../../server/auth/actor';
import { hashPassword } from '../../server/auth/passwords';
import { seedCatalogue } from '../../server/features/rights/right-catalogue';
import { DEFAULT_PASSWORD } from './context';
import { testKnex } from './db';

let passwordHash: Promise<string> | null = null;
const seq = () => crypto.randomBytes(4).toString('hex');

export async function createStructure(knex: Knex = testKnex(), name = `CCAS ${seq()}`) {
  const [row] = await knex('structures')
    .insert({ name, slug: `s-${seq()}`, city: 'Angers' })
    .returning('*');
  // As the CLI creates one: with the seeded catalogue of rights.
  await seedCatalogue(knex, row.id);
  return row as { id: string; slug: string; name: string };
}

/**
 * A partner of the directory, owned by `structureId` when given, else by the oldest structure
 * (as the migration backfills): in a test file, the structure of the first team created, whose
 * admin may then edit it. With no structure yet, one is created to own it.
 */
export async function createPartner(
  knex: Knex = testKnex(),
  name = `Partenaire ${seq()}`,
  structureId?: string,
) {
  const owner =
    structureId ??
    ((await knex('structures').orderBy('created_at').orderBy('id').first('id'))?.id as
      string | undefined) ??
    (await createStructure(knex)).id;
  const [row] = await knex('partners')
    .insert({ name, email: `${seq()}@partner.test`, structure_id: owner })
    .returning('*');
  return row as { id: string; name: string; email: string; structure_id: string };
}

export async function createUser(
  structureId: string,
  role: Role,
  opts: { partnerId?: string; name?: string; email?: string; knex?: Knex } = {},
) {
  passwordHash ??= hashPassword(DEFAULT_PASSWORD);
  const knex = opts.knex ?? testKnex();
  const [row] = await knex('users')
    .insert({
      structure_id: structureId,
      role,
      partner_id: opts.partnerId ?? null,
      name: opts.name ?? `${role} ${seq()}`,
      email: opts.email ?? `${role}-${seq()}@example.test`,
      password_hash: await passwordHash,
    })
    .returning('*');
  return row as { id: string; email: string; name: string; role: Role; structure_id: string };
}

export async function createDistrict(
  structureId: string,
  name = `Quartier ${seq()}`,
  qpv = true,
  knex: Knex = testKnex(),
) {
  const [row] = await knex('districts')
    .insert({ structure_id: structureId, name, qpv })
    .returning('*');
  return row as { id: string; name: string; qpv: boolean };
}

/** A structure with one user of each role, for the common test setup. */
export async function createTeam(knex: Knex = testKnex()) {
  const structure = await createStructure(knex);
  const [worker, worker2, manager, observer, admin] = await Promise.all([
    createUser(structure.id, 'worker', { knex }),
    createUser(structure.id, 'worker', { knex }),
    createUser(structure.id, 'manager', { knex }),
    createUser(structure.id, 'observer', { knex }),
    createUser(structure.id, 'admin', { knex }),
  ]);
  return { structure, worker, worker2, manager, observer, admin };
}
