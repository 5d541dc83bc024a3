import type { ReportStatus } from '../../features/reports/report-schemas';
import type { Messages } from '../forms';

export const REPORT_STATUS_LABELS: Record<ReportStatus, string> = {
  pending: 'À trier',
  person_created: 'Fiche créée',
  linked: 'Rattaché à une fiche',
  dismissed: 'Écarté',
};

export const REPORT_STATUS_BADGES: Record<ReportStatus, string> = {
  pending: 'fr-badge--new',
  person_created: 'fr-badge--success',
  linked: 'fr-badge--info',
  dismissed: 'fr-badge--warning',
};

export const CHANNEL_LABELS = { public: 'Formulaire public', partner: 'Partenaire' } as const;

/** The labels of the report form's fields (the error summary names them). */
export const REPORT_FIELD_LABELS: Record<string, string> = {
  location: 'Où ?',
  who: 'Qui ?',
  concern: 'Qu’est-ce qui vous inquiète ?',
  reporterContact: 'Comment vous joindre',
};

export const REPORT_MESSAGES: Messages = {
  location: 'Indiquez où la personne se trouve ou a été vue',
  who: 'Décrivez la personne en quelques mots',
  concern: 'Dites ce qui vous inquiète',
  reporterContact: 'Indiquez un numéro ou une adresse électronique',
};

export const TRIAGE_FIELD_LABELS: Record<string, string> = {
  reason: 'Motif',
  personId: 'Fiche',
};

export const TRIAGE_MESSAGES: Messages = {
  reason: 'Indiquez pourquoi le signalement est écarté',
  personId: 'Choisissez une fiche de votre structure',
  action: 'Choisissez une action',
};
