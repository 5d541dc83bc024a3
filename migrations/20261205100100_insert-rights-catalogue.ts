import type { Knex } from 'knex';

/**
 * Data: every structure that exists gets the seeded catalogue. A snapshot of the list as it was
 * when this migration was written (server/features/rights/right-catalogue.ts seeds the structures
 * created later, and may grow without changing what this migration did).
 */
const SEEDED: [code: string, label: string, kind: 'national' | 'local'][] = [
  ['rsa', 'Revenu de solidarité active (RSA)', 'national'],
  ['prime_activite', "Prime d'activité", 'national'],
  ['apl', 'Aide personnalisée au logement (APL, ALS, ALF)', 'national'],
  ['css', 'Complémentaire santé solidaire (C2S)', 'national'],
  ['aah', 'Allocation aux adultes handicapés (AAH)', 'national'],
  ['aspa', 'Allocation de solidarité aux personnes âgées (ASPA)', 'national'],
  ['cheque_energie', 'Chèque énergie', 'national'],
  ['tarification_transports', 'Tarification sociale des transports', 'national'],
  ['domiciliation', 'Domiciliation administrative', 'national'],
  ['aide_alimentaire', "Aide alimentaire d'urgence (CCAS)", 'local'],
  ['secours_urgence', "Secours financier d'urgence (CCAS)", 'local'],
  ['aide_factures', "Aide aux factures d'énergie et d'eau (CCAS)", 'local'],
];

export async function up(knex: Knex): Promise<void> {
  const structures = (await knex('structures').select('id')) as { id: string }[];
  for (const s of structures) {
    await knex('rights')
      .insert(SEEDED.map(([code, label, kind]) => ({ structure_id: s.id, code, label, kind })))
      .onConflict(['structure_id', 'code'])
      .ignore();
  }
}

/** The table goes with the previous migration's down; the seeded rows go with it. */
export async function down(knex: Knex): Promise<void> {
  await knex('rights')
    .whereIn(
      'code',
      SEEDED.map(([code]) => code),
    )
    .del();
}
