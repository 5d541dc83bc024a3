import { AUDIENCES, THEMES } from '../../features/partners/partner-schemas';

/** French names of the data·inclusion thematiques (their slugs never reach the screen). */
const THEME_LABELS: Record<(typeof THEMES)[number], string> = {
  'acces-aux-droits-et-citoyennete': 'Accès aux droits et citoyenneté',
  'accompagnement-social-et-professionnel-personnalise':
    'Accompagnement social et professionnel personnalisé',
  'apprendre-francais': 'Apprendre le français',
  'choisir-un-metier': 'Choisir un métier',
  'creation-activite': 'Création d’activité',
  'equipement-et-alimentation': 'Équipement et alimentation',
  famille: 'Famille',
  'gestion-financiere': 'Gestion financière',
  handicap: 'Handicap',
  'logement-hebergement': 'Logement et hébergement',
  mobilite: 'Mobilité',
  numerique: 'Numérique',
  'preparer-sa-candidature': 'Préparer sa candidature',
  remobilisation: 'Remobilisation',
  sante: 'Santé',
  'se-former': 'Se former',
  'trouver-un-emploi': 'Trouver un emploi',
};

/** French names of the data·inclusion publics offered here. */
export const AUDIENCE_LABELS: Record<(typeof AUDIENCES)[number], string> = {
  'tous-publics': 'Tous publics',
  'personnes-en-situation-de-handicap': 'Personnes en situation de handicap',
  'seniors-65': 'Seniors (65 ans et plus)',
  'familles-enfants': 'Familles et enfants',
  'jeunes-16-26': 'Jeunes (16 à 26 ans)',
  'beneficiaires-rsa': 'Bénéficiaires du RSA',
  'demandeurs-emploi': 'Demandeurs d’emploi',
  'sans-domicile-fixe': 'Personnes sans domicile fixe',
  femmes: 'Femmes',
  'public-langues-etrangeres': 'Public de langue étrangère',
};

/**
 * A thematique or sub-thematique as read: "Équipement et alimentation — alimentation" for
 * "equipement-et-alimentation--alimentation".
 */
export function themeLabel(slug: string): string {
  const [top, sub] = slug.split('--');
  const name = THEME_LABELS[top as keyof typeof THEME_LABELS] ?? top;
  return sub ? `${name} — ${sub.replace(/-/g, ' ')}` : name;
}

/** The thematiques a form offers: every top-level one, plus the sub-themes already chosen. */
export function themeOptions(chosen: readonly string[] = []): Record<string, string> {
  const options: Record<string, string> = {};
  for (const t of THEMES) {
    options[t] = THEME_LABELS[t];
    for (const c of chosen) if (c.startsWith(`${t}--`)) options[c] = themeLabel(c);
  }
  return options;
}

export const audienceLabel = (slug: string) =>
  AUDIENCE_LABELS[slug as keyof typeof AUDIENCE_LABELS] ?? slug;
