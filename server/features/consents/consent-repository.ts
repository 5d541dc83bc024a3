import type { Knex } from 'knex';
import type { ConsentPurpose, ShareableField } from './consent-schemas';

export interface Consent {
  id: string;
  personId: string;
  purpose: ConsentPurpose;
  partnerId: string | null;
  partnerName: string | null;
  method: 'oral' | 'written';
  sharedFields: ShareableField[];
  givenAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  recordedBy: string | null;
  createdAt: Date;
  /** Derived: not revoked, given and not expired at the moment of reading. */
  valid: boolean;
}

type Db = Knex | Knex.Transaction;

const isValid = (r: Record<string, unknown>, now: Date) =>
  !r.revoked_at &&
  new Date(r.given_at as Date) <= now &&
  (!r.expires_at || new Date(r.expires_at as Date) > now);

const toConsent = (r: Record<string, unknown>, now: Date): Consent => ({
  id: r.id as string,
  personId: r.person_id as string,
  purpose: r.purpose as ConsentPurpose,
  partnerId: (r.partner_id as string | null) ?? null,
  partnerName: (r.partner_name as string | null) ?? null,
  method: r.method as 'oral' | 'written',
  sharedFields: (r.shared_fields as ShareableField[]) ?? [],
  givenAt: r.given_at as Date,
  expiresAt: (r.expires_at as Date | null) ?? null,
  revokedAt: (r.revoked_at as Date | null) ?? null,
  recordedBy: (r.recorded_by as string | null) ?? null,
  createdAt: r.created_at as Date,
  valid: isValid(r, now),
});

/** Consents belong to a structure like the person they are about; every query is scoped. */
export const consentRepository = {
  base(db: Db, structureId: string) {
    return db('consents as c')
      .leftJoin('partners as pa', 'pa.id', 'c.partner_id')
      .where('c.structure_id', structureId)
      .select('c.*', 'pa.name as partner_name');
  },

  async insert(
    trx: Knex.Transaction,
    structureId: string,
    c: {
      personId: string;
      purpose: ConsentPurpose;
      partnerId: string | null;
      method: string;
      sharedFields: ShareableField[];
      givenAt: Date;
      expiresAt: Date | null;
      recordedBy: string;
    },
  ): Promise<string> {
    const [row] = await trx('consents')
      .insert({
        structure_id: structureId,
        person_id: c.personId,
        purpose: c.purpose,
        partner_id: c.partnerId,
        method: c.method,
        shared_fields: c.sharedFields,
        given_at: c.givenAt,
        expires_at: c.expiresAt,
        recorded_by: c.recordedBy,
      })
      .returning('id');
    return row.id as string;
  },

  async findById(db: Db, structureId: string, id: string, now: Date): Promise<Consent | null> {
    const row = await consentRepository.base(db, structureId).andWhere('c.id', id).first();
    return row ? toConsent(row, now) : null;
  },

  async lock(trx: Knex.Transaction, structureId: string, id: string) {
    return trx('consents').where({ id, structure_id: structureId }).forUpdate().first();
  },

  async listForPerson(
    db: Db,
    structureId: string,
    personId: string,
    now: Date,
  ): Promise<Consent[]> {
    const rows = await consentRepository
      .base(db, structureId)
      .andWhere('c.person_id', personId)
      .orderBy('c.given_at', 'desc')
      .orderBy('c.id');
    return rows.map((r) => toConsent(r, now));
  },

  /** The newest valid referral consent of a person for a partner, or null. */
  async validForReferral(
    db: Db,
    structureId: string,
    personId: string,
    partnerId: string,
    now: Date,
  ): Promise<Consent | null> {
    const row = await consentRepository
      .base(db, structureId)
      .andWhere({ 'c.person_id': personId, 'c.partner_id': partnerId, 'c.purpose': 'referral' })
      .whereNull('c.revoked_at')
      .andWhere('c.given_at', '<=', now)
      .andWhere((w) => w.whereNull('c.expires_at').orWhere('c.expires_at', '>', now))
      .orderBy('c.given_at', 'desc')
      .first();
    return row ? toConsent(row, now) : null;
  },

  async revoke(trx: Knex.Transaction, structureId: string, id: string, by: string, at: Date) {
    await trx('consents')
      .where({ id, structure_id: structureId })
      .update({ revoked_at: at, revoked_by: by });
  },
};
