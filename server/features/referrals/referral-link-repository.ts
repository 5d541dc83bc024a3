import type { Knex } from 'knex';
import type { LinkPurpose, ReferralLink } from './referral-link-tokens';

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
