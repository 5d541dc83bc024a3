import type { Knex } from 'knex';
import {
  hashPasswordToken,
  passwordTokenFor,
  PASSWORD_LINK_LIFETIME_MS,
  PASSWORD_TOKEN_PATTERN,
  type PasswordLink,
  type PasswordLinkPurpose,
} from './password-links';

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
