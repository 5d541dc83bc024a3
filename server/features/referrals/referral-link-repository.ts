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

    /**
     * The links of the partner's referrals not used yet stop working at `at` (they then answer
     * 'expired'); those already used or expired are left as they are. Across structures, as the
     * partner's address serves them all. Returns how many stopped.
     */
    async expireUnusedOfPartner(
      trx: Knex.Transaction,
      partnerId: string,
      at: Date,
    ): Promise<number> {
      return trx('referral_links')
        .whereIn('referral_id', trx('referrals').select('id').where({ partner_id: partnerId }))
        .whereNull('used_at')
        .where('expires_at', '>', at)
        .update({ expires_at: at });
    },

    /**
     * Where the referral's partner's emails go now, its partner row locked FOR SHARE until the
     * transaction ends: a confirmation of a new address under way (which locks the row FOR
     * UPDATE) is waited for and then read, and one that comes later waits for this transaction.
     */
    async partnerEmailNow(trx: Knex.Transaction, referralId: string): Promise<string | null> {
      const row = await trx('referrals as r')
        .join('partners as pa', 'pa.id', 'r.partner_id')
        .where('r.id', referralId)
        .forShare('pa')
        .first('pa.email');
      return (row?.email as string | undefined) ?? null;
    },
  };
  return repo;
}

export type ReferralLinkRepository = ReturnType<typeof createReferralLinkRepository>;
