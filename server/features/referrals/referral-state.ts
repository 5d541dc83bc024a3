/**
 * The referral state machine, after the HL7 SDOH referral Task. One table, read by the service,
 * the link page and the tests, so the rules cannot drift apart.
 */
export const REFERRAL_STATUSES = [
  'requested',
  'accepted',
  'rejected',
  'cancelled',
  'in_progress',
  'on_hold',
  'completed',
  'failed',
  'expired',
] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];

/** Statuses in which the referral still waits for or receives help ("pending"). */
export const OPEN_STATUSES: readonly ReferralStatus[] = [
  'requested',
  'accepted',
  'in_progress',
  'on_hold',
];
/** Open statuses once the partner took the referral: help under way, an outcome may be asked. */
export const UNDER_WAY_STATUSES: readonly ReferralStatus[] = ['accepted', 'in_progress', 'on_hold'];
/** A status group as an SQL list, for queries in other repositories: `('requested', …)`. */
export const sqlStatusList = (statuses: readonly ReferralStatus[]) =>
  `(${statuses.map((s) => `'${s}'`).join(', ')})`;
export const TERMINAL_STATUSES: readonly ReferralStatus[] = [
  'rejected',
  'cancelled',
  'completed',
  'failed',
  'expired',
];

export const TRANSITIONS: Readonly<Record<ReferralStatus, readonly ReferralStatus[]>> = {
  requested: ['accepted', 'rejected', 'cancelled', 'expired'],
  accepted: ['in_progress', 'on_hold', 'completed', 'failed', 'cancelled'],
  in_progress: ['on_hold', 'completed', 'failed', 'cancelled'],
  on_hold: ['in_progress', 'completed', 'failed', 'cancelled'],
  rejected: [],
  cancelled: [],
  completed: [],
  failed: [],
  expired: [],
};

/** Who may move a referral INTO each status. */
type TransitionActor = 'partner' | 'requester_or_manager' | 'system';
export const ACTOR_FOR: Readonly<Record<Exclude<ReferralStatus, 'requested'>, TransitionActor>> = {
  accepted: 'partner',
  rejected: 'partner',
  in_progress: 'partner',
  on_hold: 'partner',
  completed: 'partner',
  failed: 'partner',
  cancelled: 'requester_or_manager',
  expired: 'system',
};

/** A reason is required to enter these statuses; for `rejected` it is one of the codes below. */
export const REASON_REQUIRED: readonly ReferralStatus[] = [
  'rejected',
  'cancelled',
  'on_hold',
  'failed',
];

export const REJECTION_REASONS = [
  'not_eligible',
  'no_capacity',
  'person_unreachable',
  'duplicate',
  'out_of_area',
  'other',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const REJECTION_REASON_LABELS: Readonly<Record<RejectionReason, string>> = {
  not_eligible: 'La personne ne remplit pas les conditions',
  no_capacity: 'Pas de place ou de capacité pour le moment',
  person_unreachable: 'Personne injoignable',
  duplicate: 'Demande en double',
  out_of_area: "Hors de notre zone d'intervention",
  other: 'Autre motif',
};

/** Codes the system writes on its own transitions. */
export const SYSTEM_REASONS = {
  consentRevoked: 'consent_revoked',
  slaPassed: 'sla_passed',
  personAnonymised: 'person_anonymised',
} as const;

export const STATUS_LABELS: Readonly<Record<ReferralStatus, string>> = {
  requested: 'Demandée',
  accepted: 'Acceptée',
  rejected: 'Refusée',
  cancelled: 'Annulée',
  in_progress: 'En cours',
  on_hold: 'En pause',
  completed: 'Réalisée',
  failed: 'Échouée',
  expired: 'Expirée (sans réponse)',
};

export function canTransition(from: ReferralStatus, to: ReferralStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * Who acts in a referral's requester's name: the requester, and `standInId`, the person's
 * active référent once the requester is no longer active staff (the one the service tells in
 * their stead; it reads it, null while the requester is at work).
 */
export interface RequesterSide {
  requesterId: string | null;
  standInId: string | null;
}

/**
 * Whether this actor may ask for this move, whatever the current status (the state machine
 * checks that apart, as a 409). The service enforces it and the pages offer only these moves,
 * so both read this one rule.
 */
export function mayMove(
  actor: { role: string; id: string },
  referral: RequesterSide,
  to: Exclude<ReferralStatus, 'requested'>,
): boolean {
  const who = ACTOR_FOR[to];
  if (who === 'partner') return actor.role === 'partner';
  if (who === 'requester_or_manager') return actsForRequester(actor, referral);
  return false;
}

/**
 * The worker who made the referral, a manager of its structure, or once the requester is no
 * longer active staff the person's active référent (who is told in their stead): who may cancel
 * it, and send its partner the link again (the service checks the structure; the pages offer
 * only this).
 */
export function actsForRequester(
  actor: { role: string; id: string },
  referral: RequesterSide,
): boolean {
  if (actor.role === 'manager') return true;
  if (actor.role !== 'worker') return false;
  return referral.requesterId === actor.id || referral.standInId === actor.id;
}
