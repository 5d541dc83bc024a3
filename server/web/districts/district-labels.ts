import type { Messages } from '../forms';

export const DISTRICT_LABELS: Record<string, string> = {
  name: 'Nom',
  code: 'Code',
  qpv: 'Quartier prioritaire de la politique de la ville (QPV)',
};

export const DISTRICT_MESSAGES: Messages = {
  name: 'Indiquez le nom du quartier, sur une ligne (100 caractères au plus)',
  code: 'Indiquez un code de 2 à 20 lettres ou chiffres (INSEE, IRIS ou QPV), ou laissez le champ vide',
  qpv: 'Cochez ou décochez la case',
};

/** A name another district of the structure has (409 `conflict`). */
export const NAME_TAKEN = 'Un quartier de votre structure porte déjà ce nom.';
