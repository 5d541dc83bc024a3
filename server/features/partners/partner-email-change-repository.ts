import type { Knex } from 'knex';
import {
  partnerEmailTokenFor,
  hashToken,
  PARTNER_EMAIL_LINK_LIFETIME_MS,
  PARTNER_EMAIL_TOKEN_PATTERN,
  type PartnerEmailChange,
} from './partner-email-changes';

type Db = Knex | Knex.Transaction;

const toChange = (r: Record<string, unknown>): PartnerEmailChange => ({
  id: r.id as string,
  partnerId: r.partner_id as string,
  structureId: r.structure_id as string,
  newEmail: r.new_email as string,
  oldEmail: (r.old_email as string | null) ?? null,
  expiresAt: new Date(r.expires_at as Date),
  confirmedAt: r.confirmed_at ? new Date(r.confirmed_at as Date) : null,
  revokedAt: r.revoked_at ? new Date(r.revoked_at as Date) : null,
});

/** A partner's requested address changes, pending until confirmed from the new address. */
export function createPartnerEmailChangeRepository() {
  const repo = {
    /** A new pending address for the partner; older unconfirmed requests stop working. */
    async issue(
      trx: Knex.Transaction,
      secret: string,
      c: {
        partnerId: string;
        structureId: string;
        requestedBy: string | null;
        newEmail: string;
        at: Date;
      },
    ): Promise<PartnerEmailChange> {
      await repo.revokePending(trx, c.partnerId, c.at);
      const id = crypto.randomUUID();
      const [row] = await trx('partner_email_changes')
        .insert({
          id,
          partner_id: c.partnerId,
          structure_id: c.structureId,
          requested_by: c.requestedBy,
          new_email: c.newEmail,
          token_hash: hashToken(partnerEmailTokenFor(secret, id)),
          expires_at: new Date(c.at.getTime() + PARTNER_EMAIL_LINK_LIFETIME_MS),
          created_at: c.at,
        })
        .returning('*');
      return toChange(row);
    },

    /**
     * The partner's unconfirmed requests stop working, expired ones included (a newer request
     * replaces them, or an admin withdraws the address): their links then answer as unknown.
     * Returns them as they were before.
     */
    async revokePending(
      trx: Knex.Transaction,
      partnerId: string,
      at: Date,
    ): Promise<PartnerEmailChange[]> {
      const rows = await trx('partner_email_changes')
        .where({ partner_id: partnerId })
        .whereNull('confirmed_at')
        .whereNull('revoked_at')
        .update({ revoked_at: at })
        .returning('*');
      return rows.map((r) => ({ ...toChange(r), revokedAt: null }));
    },

    async findById(db: Db, id: string): Promise<PartnerEmailChange | null> {
      const row = await db('partner_email_changes').where({ id }).first();
      return row ? toChange(row) : null;
    },

    async findByToken(db: Db, token: string): Promise<PartnerEmailChange | null> {
      if (!PARTNER_EMAIL_TOKEN_PATTERN.test(token)) return null;
      const row = await db('partner_email_changes')
        .where({ token_hash: hashToken(token) })
        .first();
      return row ? toChange(row) : null;
    },

    async lockByToken(trx: Knex.Transaction, token: string): Promise<PartnerEmailChange | null> {
      if (!PARTNER_EMAIL_TOKEN_PATTERN.test(token)) return null;
      const row = await trx('partner_email_changes')
        .where({ token_hash: hashToken(token) })
        .forUpdate()
        .first();
      return row ? toChange(row) : null;
    },

    async markConfirmed(trx: Knex.Transaction, id: string, oldEmail: string, at: Date) {
      await trx('partner_email_changes')
        .where({ id })
        .update({ confirmed_at: at, old_email: oldEmail });
    },

    /** The address each partner waits to confirm (still usable at `now`), by partner id. */
    async pendingEmails(db: Db, partnerIds: string[], now: Date): Promise<Map<string, string>> {
      if (partnerIds.length === 0) return new Map();
      const rows = await db('partner_email_changes')
        .whereIn('partner_id', partnerIds)
        .whereNull('confirmed_at')
        .whereNull('revoked_at')
        .where('expires_at', '>', now)
        .select('partner_id', 'new_email');
      return new Map(rows.map((r) => [r.partner_id as string, r.new_email as string]));
    },
  };
  return repo;
}

export type PartnerEmailChangeRepository = ReturnType<typeof createPartnerEmailChangeRepository>;
