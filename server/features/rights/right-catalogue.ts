import type { Knex } from 'knex';
import type { RightKind } from './right-schemas';

/**
 * The catalogue every new structure starts with: the national rights a CCAS meets, then the
 * CCAS's usual optional aids (local, which its admins may rename or archive like their own).
 */
const SEEDED_RIGHTS: readonly { code: string; label: string; kind: RightKind }[] = [
  { code: 'rsa', label: 'Revenu de solidarité active (RSA)', kind: 'national' },
  { code: 'prime_activite', label: "Prime d'activité", kind: 'national' },
  { code: 'apl', label: 'Aide personnalisée au logement (APL, ALS, ALF)', kind: 'national' },
  { code: 'css', label: 'Complémentaire santé solidaire (C2S)', kind: 'national' },
  { code: 'aah', label: 'Allocation aux adultes handicapés (AAH)', kind: 'national' },
  { code: 'aspa', label: 'Allocation de solidarité aux personnes âgées (ASPA)', kind: 'national' },
  { code: 'cheque_energie', label: 'Chèque énergie', kind: 'national' },
  {
    code: 'tarification_transports',
    label: 'Tarification sociale des transports',
    kind: 'national',
  },
  { code: 'domiciliation', label: 'Domiciliation administrative', kind: 'national' },
  { code: 'aide_alimentaire', label: "Aide alimentaire d'urgence (CCAS)", kind: 'local' },
  { code: 'secours_urgence', label: "Secours financier d'urgence (CCAS)", kind: 'local' },
  { code: 'aide_factures', label: "Aide aux factures d'énergie et d'eau (CCAS)", kind: 'local' },
];

/**
 * Gives a structure the seeded catalogue; what it holds already stays as it is. Called where a
 * structure is created (the CLI, the demo seed), in the creating transaction.
 */
export async function seedCatalogue(db: Knex | Knex.Transaction, structureId: string) {
  await db('rights')
    .insert(SEEDED_RIGHTS.map((r) => ({ structure_id: structureId, ...r })))
    .onConflict(['structure_id', 'code'])
    .ignore();
}
