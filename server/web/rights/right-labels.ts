import {
  AMOUNT_NOT_OBTAINED,
  type NonTakeUpReason,
  type RightStatus,
} from '../../features/rights/right-schemas';
import type { Messages } from '../forms';

export const RIGHT_STATUS_LABELS: Record<RightStatus, string> = {
  not_claimed: 'Non recouru',
  claim_in_progress: 'Demande en cours',
  obtained: 'Obtenu',
  refused: 'Refusé',
  abandoned: 'Abandonné',
};

/** DSFR badge colours: non-take-up stands out, an obtained right reads as a success. */
export const RIGHT_STATUS_BADGES: Record<RightStatus, string> = {
  not_claimed: 'fr-badge--warning',
  claim_in_progress: 'fr-badge--info',
  obtained: 'fr-badge--success',
  refused: 'fr-badge--error',
  abandoned: '',
};

/** The Odenore categories of non-take-up, as social workers say them. */
export const REASON_LABELS: Record<NonTakeUpReason, string> = {
  non_knowledge: 'Non-connaissance',
  non_request: 'Non-demande',
  non_receipt: 'Non-réception',
  non_proposal: 'Non-proposition',
};

export const PERSON_RIGHT_LABELS: Record<string, string> = {
  status: 'Statut',
  reason: 'Raison du non-recours',
  monthlyAmount: 'Montant mensuel (€)',
  note: 'Note',
};

/** The form tracking a new right: the right chosen, then the same fields. */
export const NEW_RIGHT_LABELS: Record<string, string> = { code: 'Droit', ...PERSON_RIGHT_LABELS };

export const PERSON_RIGHT_MESSAGES: Messages = {
  status: 'Choisissez un statut dans la liste',
  reason: 'Choisissez la raison du non-recours (seulement pour un droit non recouru)',
  monthlyAmount:
    'Indiquez un montant en euros, par exemple 607,75 ou 1 500, sans point ni virgule entre les milliers (100 000 au plus)',
  [`monthlyAmount:${AMOUNT_NOT_OBTAINED}`]:
    'Le montant mensuel ne s’indique que pour un droit obtenu : videz ce champ, ou choisissez le statut « Obtenu »',
  note: 'La note fait 2 000 caractères au plus',
};

export const RIGHT_ADMIN_LABELS: Record<string, string> = {
  code: 'Code',
  label: 'Intitulé',
};

export const RIGHT_ADMIN_MESSAGES: Messages = {
  code: 'Indiquez un code de 2 à 40 caractères : lettres minuscules sans accent, chiffres ou _, en commençant par une lettre (par exemple aide_cantine)',
  label: 'Indiquez l’intitulé (200 caractères au plus)',
};

export const moneyFmt = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });
