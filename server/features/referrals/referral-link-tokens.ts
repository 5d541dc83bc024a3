import crypto from 'node:crypto';

export type LinkPurpose = 'respond' | 'outcome';

/** Where the signed links point; the request logger redacts what follows it. */
export const LINK_PATH_PREFIX = '/partenaires/reponse/';

/** A signed link is valid this long. */
export const LINK_LIFETIME_MS = 8 * 24 * 3600 * 1000;

/**
 * The token of the link sent for one deadline: HMAC(LINK_SECRET, deadline id), 32 bytes.
 * Deterministic on purpose: if the worker crashes after the email left and before its
 * transaction committed, the retry sends the same link, which then works. Only its SHA-256 is
 * stored, so a database leak gives no usable link.
 */
export function linkTokenFor(secret: string, deadlineId: string, purpose: LinkPurpose): string {
  return crypto
    .createHmac('sha256', secret)
    .update(`referral-link:${purpose}:${deadlineId}`)
    .digest('base64url');
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

/** Tokens are 43 base64url characters; anything else is refused before any lookup. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface ReferralLink {
  id: string;
  referralId: string;
  purpose: LinkPurpose;
  expiresAt: Date;
  usedAt: Date | null;
}
