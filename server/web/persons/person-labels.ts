import type { District } from '../../features/districts/district-repository';

/** French labels for the person fields' codes; the codes never reach the screen. */
export const GENDER_LABELS: Record<string, string> = {
  female: 'Femme',
  male: 'Homme',
  other: 'Autre',
  unknown: 'Ne souhaite pas le dire',
};

export const HOUSEHOLD_LABELS: Record<string, string> = {
  single: 'Personne seule',
  couple: 'Couple sans enfant',
  single_parent: 'Famille monoparentale',
  couple_with_children: 'Couple avec enfant(s)',
  other: 'Autre',
};

export const CLOSED_REASON_LABELS: Record<string, string> = {
  moved: 'Déménagement',
  refused: 'Refus de la personne',
  deceased: 'Décès',
  no_contact: 'Sans contact depuis longtemps',
  resolved: 'Situation réglée',
  other: 'Autre',
};

/** A district as its select option shows it: QPV districts say so, as on the person file. */
export const districtLabel = (d: Pick<District, 'name' | 'qpv'>) =>
  d.qpv ? `${d.name} (QPV)` : d.name;

/** Options of a district field or filter; an archived district, where listed, says so. */
export const districtOptions = (districts: District[]): Record<string, string> =>
  Object.fromEntries(
    districts.map((d) => [d.id, `${districtLabel(d)}${d.archivedAt ? ' (archivé)' : ''}`]),
  );
