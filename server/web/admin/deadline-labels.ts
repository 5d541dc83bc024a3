import type { DeadlineStatus } from '../../features/deadlines/deadline-repository';
import type { DeadlineView } from '../../features/deadlines/deadline-admin-service';

/** What each deadline kind does, in the admins' words. */
export const DEADLINE_KIND_LABELS: Record<string, string> = {
  'follow_up.due': 'Suivi à échéance',
  'follow_up.overdue_reminder': 'Rappel de suivi en retard',
  'follow_up.escalate': 'Suivi en retard signalé aux responsables',
  'person.no_contact': 'Sans contact : suivi « relancer »',
  'person.suggest_close': 'Sans contact : proposition de clôture',
  'digest.daily': 'Point du jour',
  'digest.email': 'Point du jour par courriel',
  'referral.email_partner': 'Courriel de demande au partenaire',
  'referral.remind_partner': 'Relance du partenaire',
  'referral.resend_link': 'Lien renvoyé au partenaire',
  'referral.escalate_requester': 'Orientation sans réponse : alerte',
  'referral.expire': 'Expiration de l’orientation',
  'referral.ask_outcome': 'Question du résultat au partenaire',
  'referral.outcome_follow_up': 'Suivi « mettre à jour le droit »',
  'referral.email_withdrawn': 'Courriel de retrait de la demande au partenaire',
  'user.password_email': 'Courriel de choix du mot de passe',
  'partner.email_confirm': 'Courriel de confirmation de la nouvelle adresse du partenaire',
  'partner.email_changed': 'Avis du changement d’adresse du partenaire',
  'retention.nightly': 'Anonymisation des dossiers inactifs (nuit)',
  'report.escalate': 'Signalement sans suite : alerte',
  'observation.refresh': 'Mise à jour de l’observation',
};

export const DEADLINE_STATUS_LABELS: Record<DeadlineStatus, string> = {
  pending: 'En attente',
  done: 'Fait',
  cancelled: 'Annulé',
  skipped: 'Sans objet',
  failed: 'Échoué',
};

export const DEADLINE_STATUS_BADGES: Record<DeadlineStatus, string> = {
  pending: 'fr-badge--info',
  done: 'fr-badge--success',
  cancelled: '',
  skipped: '',
  failed: 'fr-badge--error',
};

export const DEADLINE_VIEW_LABELS: Record<DeadlineView, string> = {
  troubled: 'En difficulté',
  failed: 'Échouées',
  pending: 'En attente',
  all: 'Toutes',
};
