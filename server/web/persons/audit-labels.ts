import { ROLE_LABELS } from '../admin/admin-views';

/** The audit trail's actions as a person reading their file's journal would say them. */
export const AUDIT_ACTION_LABELS: Record<string, string> = {
  'person.create': 'Création de la fiche',
  'person.read': 'Consultation de la fiche',
  'person.update': 'Modification de la fiche',
  'person.search': 'Recherche de personnes',
  'person.timeline': 'Consultation de l’historique',
  'person.duplicates': 'Recherche de doublons',
  'backlog.items': 'Consultation du tableau de l’équipe',
  'person.merge': 'Fusion d’une autre fiche dans celle-ci',
  'person.merged': 'Fiche fusionnée dans une autre',
  'person.letter': 'Courrier préparé',
  'person.export': 'Export des données (droit d’accès)',
  'person.anonymise': 'Anonymisation (durée de conservation atteinte)',
  'audit.read': 'Consultation du journal des accès',
  'contact.create': 'Contact noté',
  'contact.list': 'Consultation des contacts',
  'follow_up.create': 'Suivi planifié',
  'follow_up.list': 'Consultation des suivis',
  'follow_up.read': 'Consultation d’un suivi',
  'follow_up.reassign': 'Suivi réattribué',
  'follow_up.reopen': 'Suivi rouvert',
  'consent.create': 'Consentement enregistré',
  'consent.list': 'Consultation des consentements',
  'consent.read': 'Consultation d’un consentement',
  'consent.revoke': 'Consentement retiré',
  'person_right.list': 'Consultation des droits',
  'person_right.update': 'Droit mis à jour',
  'referral.create': 'Orientation créée',
  'referral.list': 'Consultation des orientations',
  'referral.read': 'Consultation d’une orientation',
  'referral.transition': 'Orientation mise à jour',
  'referral.resend_link': 'Lien renvoyé au partenaire',
  'person.report_linked': 'Signalement rattaché à la fiche',
  'report.list': 'Consultation des signalements',
  'report.read': 'Consultation d’un signalement',
  'report.triage': 'Signalement traité',
};

export const auditActionLabel = (action: string) => AUDIT_ACTION_LABELS[action] ?? action;

/** Who did it: a user's name and role, or the system. */
export const auditActorLabel = (a: { name: string; role: string } | null) =>
  a ? `${a.name} (${ROLE_LABELS[a.role as keyof typeof ROLE_LABELS] ?? a.role})` : 'Système';
