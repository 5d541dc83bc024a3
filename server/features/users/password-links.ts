import crypto from 'node:crypto';
import type { Knex } from 'knex';

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

type Db = Knex | Knex.Transaction;

const toLink = (r: Record<string, unknown>): PasswordLink => ({
  id: r.id as string,
  structureId: r.structure_id as string,
  userId: r.user_id as string,
  purpose: r.purpose as PasswordLinkPurpose,
  expiresAt: new Date(r.expires_at as Date),
  usedAt: r.used_at ? new Date(r.used_at as Date) : null,
  revokedAt: r.revoked_at ? new Date(r.revoked_at as Date) : null,
  createdAt: new Date(r.created_at as Date),
});

/** Whether a link may still set a password at `now`. */
export const linkUsable = (l: PasswordLink, now: Date) =>
  !l.usedAt && !l.revokedAt && l.expiresAt.getTime() > now.getTime();

export function createPasswordLinkRepository() {
  const repo = {
    /** A new link for a user; the older unused ones stop working. */
    async issue(
      trx: Knex.Transaction,
      secret: string,
      l: { structureId: string; userId: string; purpose: PasswordLinkPurpose; at: Date },
    ): Promise<PasswordLink> {
      await trx('password_links')
        .where({ user_id: l.userId })
        .whereNull('used_at')
        .whereNull('revoked_at')
        .update({ revoked_at: l.at });
      const id = crypto.randomUUID();
      const [row] = await trx('password_links')
        .insert({
          id,
          structure_id: l.structureId,
          user_id: l.userId,
          purpose: l.purpose,
          token_hash: hashPasswordToken(passwordTokenFor(secret, id)),
          expires_at: new Date(l.at.getTime() + PASSWORD_LINK_LIFETIME_MS),
          created_at: l.at,
        })
        .returning('*');
      return toLink(row);
    },

    async findById(db: Db, id: string): Promise<PasswordLink | null> {
      const row = await db('password_links').where({ id }).first();
      return row ? toLink(row) : null;
    },

    async findByToken(db: Db, token: string): Promise<PasswordLink | null> {
      if (!PASSWORD_TOKEN_PATTERN.test(token)) return null;
      const row = await db('password_links')
        .where({ token_hash: hashPasswordToken(token) })
        .first();
      return row ? toLink(row) : null;
    },

    async lockByToken(trx: Knex.Transaction, token: string): Promise<PasswordLink | null> {
      if (!PASSWORD_TOKEN_PATTERN.test(token)) return null;
      const row = await trx('password_links')
        .where({ token_hash: hashPasswordToken(token) })
        .forUpdate()
        .first();
      return row ? toLink(row) : null;
    },

    async markUsed(trx: Knex.Transaction, id: string, at: Date): Promise<void> {
      await trx('password_links').where({ id }).update({ used_at: at });
    },

    /** A disabled user's links stop working. */
    async revokeAll(trx: Knex.Transaction, userId: string, at: Date): Promise<void> {
      await trx('password_links')
        .where({ user_id: userId })
        .whereNull('used_at')
        .whereNull('revoked_at')
        .update({ revoked_at: at });
    },
  };
  return repo;
}

export type PasswordLinkRepository = ReturnType<typeof createPasswordLinkRepository>;
