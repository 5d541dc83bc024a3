import crypto from 'node:crypto';

export type PasswordLinkPurpose = 'invite' | 'reset';

/** Where set-password links point; the request logger redacts what follows it. */
export const PASSWORD_PATH_PREFIX = '/mot-de-passe/';

/** Valid 48 hours (spec §1), single use. */
export const PASSWORD_LINK_LIFETIME_MS = 48 * 3600 * 1000;

/** The deadline kind of the email that carries the link. */
export const USER_PASSWORD_EMAIL = 'user.password_email';

/**
 * The token of a set-password link: HMAC(LINK_SECRET, link id), 32 bytes in base64url. The email
 * job rebuilds it from the id (a redelivered job sends the same working link); only its SHA-256
 * is stored, so the database alone gives no usable link.
 */
export function passwordTokenFor(secret: string, linkId: string): string {
  return crypto.createHmac('sha256', secret).update(`password-link:${linkId}`).digest('base64url');
}

export const hashPasswordToken = (token: string) =>
  crypto.createHash('sha256').update(token).digest('hex');

/** Tokens are 43 base64url characters; anything else is refused before any lookup. */
export const PASSWORD_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface PasswordLink {
  id: string;
  structureId: string;
  userId: string;
  purpose: PasswordLinkPurpose;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

/** Whether a link may still set a password at `now`. */
export const linkUsable = (l: PasswordLink, now: Date) =>
  !l.usedAt && !l.revokedAt && l.expiresAt.getTime() > now.getTime();
