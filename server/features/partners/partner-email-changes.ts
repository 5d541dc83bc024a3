import crypto from 'node:crypto';
import type { Knex } from 'knex';

/** Where the confirmation link points; the request logger redacts what follows it. */
export const PARTNER_EMAIL_PATH_PREFIX = '/adresse-partenaire/';

/** Valid 48 hours, single use, as set-password links are. */
export const PARTNER_EMAIL_LINK_LIFETIME_MS = 48 * 3600 * 1000;

/** The deadline kinds: the link to the new address, then the notice to the old one. */
export const PARTNER_EMAIL_CONFIRM = 'partner.email_confirm';
export const PARTNER_EMAIL_CHANGED = 'partner.email_changed';

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

const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

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

/** What stops a change from being confirmed at `now`, or null when it still can be. */
export function changeProblem(c: PartnerEmailChange | null, now: Date): EmailChangeProblem | null {
  if (!c || c.revokedAt) return 'link_invalid';
  if (c.confirmedAt) return 'link_used';
  if (c.expiresAt.getTime() <= now.getTime()) return 'link_expired';
  return null;
}

export const partnerEmailChangeRepository = {
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
    await partnerEmailChangeRepository.revokePending(trx, c.partnerId, c.at);
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

  /** The partner's unconfirmed requests stop working (a newer one, or the address kept). */
  async revokePending(trx: Knex.Transaction, partnerId: string, at: Date): Promise<void> {
    await trx('partner_email_changes')
      .where({ partner_id: partnerId })
      .whereNull('confirmed_at')
      .whereNull('revoked_at')
      .update({ revoked_at: at });
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
