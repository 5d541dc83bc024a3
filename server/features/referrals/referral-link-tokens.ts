import crypto from 'node:crypto';
import type { Knex } from 'knex';

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

const toLink = (r: Record<string, unknown>): ReferralLink => ({
  id: r.id as string,
  referralId: r.referral_id as string,
  purpose: r.purpose as LinkPurpose,
  expiresAt: new Date(r.expires_at as Date),
  usedAt: r.used_at ? new Date(r.used_at as Date) : null,
});

export function createReferralLinkRepository() {
  const repo = {
    /** Idempotent: the same token (same deadline) is stored once. */
    async insertOnce(
      trx: Knex | Knex.Transaction,
      l: { referralId: string; tokenHash: string; purpose: LinkPurpose; expiresAt: Date; at: Date },
    ): Promise<void> {
      await trx('referral_links')
        .insert({
          referral_id: l.referralId,
          token_hash: l.tokenHash,
          purpose: l.purpose,
          expires_at: l.expiresAt,
          created_at: l.at,
        })
        .onConflict('token_hash')
        .ignore();
    },

    async findByHash(db: Knex | Knex.Transaction, tokenHash: string): Promise<ReferralLink | null> {
      const row = await db('referral_links').where({ token_hash: tokenHash }).first();
      return row ? toLink(row) : null;
    },

    async lockByHash(trx: Knex.Transaction, tokenHash: string): Promise<ReferralLink | null> {
      const row = await trx('referral_links').where({ token_hash: tokenHash }).forUpdate().first();
      return row ? toLink(row) : null;
    },

    async markUsed(trx: Knex.Transaction, id: string, at: Date): Promise<void> {
      await trx('referral_links').where({ id }).update({ used_at: at });
    },
  };
  return repo;
}

export type ReferralLinkRepository = ReturnType<typeof createReferralLinkRepository>;
