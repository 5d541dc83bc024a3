import crypto from 'node:crypto';

/** Where the confirmation link points; the request logger redacts what follows it. */
export const PARTNER_EMAIL_PATH_PREFIX = '/adresse-partenaire/';

/** Valid 48 hours, single use, as set-password links are. */
export const PARTNER_EMAIL_LINK_LIFETIME_MS = 48 * 3600 * 1000;

/** The deadline kinds: the link to the new address, then the notice to the old one. */
export const PARTNER_EMAIL_CONFIRM = 'partner.email_confirm';
export const PARTNER_EMAIL_CHANGED = 'partner.email_changed';

/**
 * The in-app notice to the other structures referring to a partner when its owner opens one of
 * its accounts (invited, or enabled again): it will read their referrals too.
 */
export const PARTNER_ACCOUNT_OPENED = 'partner.account_opened';

/**
 * The token of a confirmation link: HMAC(LINK_SECRET, change id), 32 bytes in base64url, as
 * set-password links (users/password-links.ts). Only its SHA-256 is stored.
 */
export function partnerEmailTokenFor(secret: string, changeId: string): string {
  return crypto
    .createHmac('sha256', secret)
    .update(`partner-email-change:${changeId}`)
    .digest('base64url');
}

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** Tokens are 43 base64url characters; anything else is refused before any lookup. */
export const PARTNER_EMAIL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface PartnerEmailChange {
  id: string;
  partnerId: string;
  structureId: string;
  newEmail: string;
  oldEmail: string | null;
  expiresAt: Date;
  confirmedAt: Date | null;
  revokedAt: Date | null;
}

/** Why a confirmation link does not work, by code; the page says it in French. */
export type EmailChangeProblem = 'link_invalid' | 'link_expired' | 'link_used';

/** What stops a change from being confirmed at `now`, or null when it still can be. */
export function changeProblem(c: PartnerEmailChange | null, now: Date): EmailChangeProblem | null {
  if (!c || c.revokedAt) return 'link_invalid';
  if (c.confirmedAt) return 'link_used';
  if (c.expiresAt.getTime() <= now.getTime()) return 'link_expired';
  return null;
}
