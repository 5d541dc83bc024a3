import type { Role } from '../../auth/actor';
import { NOTIFIED_ROLES } from '../notifications/notification-service';

/**
 * The roles that get the daily digest: those notified at all (a digest is a notification), staff
 * (their follow-ups and referrals, and for managers the escalations and reports waiting triage)
 * and partner users (their inbox). Observers and admins follow nobody, so nothing of theirs is
 * ever due. Read by the digest's recipients and by the account page that offers it by email.
 */
export const DIGEST_ROLES: readonly Role[] = NOTIFIED_ROLES;

/** Whether a user of this role gets the daily digest. */
export const receivesDigest = (role: Role): boolean => DIGEST_ROLES.includes(role);

/**
 * Whether a user of this role gets a manager's lines: the escalated follow-ups of the teams they
 * lead (of everyone's without a lead) and the reports escalated for triage. A user whose role
 * changes keeps the notifications they were sent, but has the lines only while a manager.
 */
export const receivesEscalations = (role: Role): boolean => role === 'manager';
