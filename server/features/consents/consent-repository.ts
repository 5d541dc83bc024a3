import type { Knex } from 'knex';
import type { ConsentPurpose, ShareableField } from './consent-schemas';
import { isConsentValid, validConsentSql } from './consent-validity';

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

/** The stored row; it stays in this file. */
interface ConsentRow {
  id: string;
  structure_id: string;
  person_id: string;
  purpose: ConsentPurpose;
  partner_id: string | null;
  shared_fields: ShareableField[];
  given_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** What the rules read of a consent's row (revocation): its subject, partner and state. */
export interface ConsentRecord {
  id: string;
  personId: string;
  purpose: ConsentPurpose;
  partnerId: string | null;
  revokedAt: Date | null;
}

const toRecord = (r: ConsentRow): ConsentRecord => ({
  id: r.id,
  personId: r.person_id,
  purpose: r.purpose,
  partnerId: r.partner_id,
  revokedAt: r.revoked_at,
});

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
  valid: isConsentValid(
    {
      revokedAt: (r.revoked_at as Date | null) ?? null,
      givenAt: r.given_at as Date,
      expiresAt: (r.expires_at as Date | null) ?? null,
    },
    now,
  ),
});

/** Consents belong to a structure like the person they are about; every query is scoped. */
export function createConsentRepository() {
  const repo = {
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
      const row = await repo.base(db, structureId).andWhere('c.id', id).first();
      return row ? toConsent(row, now) : null;
    },

    async lock(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<ConsentRecord | null> {
      const row = (await trx('consents')
        .where({ id, structure_id: structureId })
        .forUpdate()
        .first()) as ConsentRow | undefined;
      return row ? toRecord(row) : null;
    },

    /** A consent in scope (its person and partner), without a lock. */
    async findRecord(db: Db, structureId: string, id: string): Promise<ConsentRecord | null> {
      const row = (await db('consents').where({ id, structure_id: structureId }).first()) as
        ConsentRow | undefined;
      return row ? toRecord(row) : null;
    },

    /**
     * Every referral consent of a person for one partner not revoked yet, locked: revocation acts
     * on the pair, whichever of its consents the user clicked.
     */
    async lockUnrevokedForPair(
      trx: Knex.Transaction,
      structureId: string,
      personId: string,
      partnerId: string,
    ): Promise<ConsentRecord[]> {
      const rows = (await trx('consents')
        .where({
          structure_id: structureId,
          person_id: personId,
          partner_id: partnerId,
          purpose: 'referral',
        })
        .whereNull('revoked_at')
        .orderBy('given_at')
        .orderBy('id')
        .forUpdate()) as ConsentRow[];
      return rows.map(toRecord);
    },

    async listForPerson(
      db: Db,
      structureId: string,
      personId: string,
      now: Date,
    ): Promise<Consent[]> {
      const rows = await repo
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
      const row = await repo
        .base(db, structureId)
        .andWhere({ 'c.person_id': personId, 'c.partner_id': partnerId, 'c.purpose': 'referral' })
        .whereRaw(validConsentSql('c'), [now, now])
        .orderBy('c.given_at', 'desc')
        .first();
      return row ? toConsent(row, now) : null;
    },

    /** The newest referral consent of a person for a partner, whatever its state (why a referral is refused). */
    async latestForReferral(
      db: Db,
      structureId: string,
      personId: string,
      partnerId: string,
    ): Promise<{ revokedAt: Date | null; expiresAt: Date | null } | null> {
      const row = (await db('consents')
        .where({
          structure_id: structureId,
          person_id: personId,
          partner_id: partnerId,
          purpose: 'referral',
        })
        .orderBy('given_at', 'desc')
        .orderBy('id')
        .first()) as ConsentRow | undefined;
      return row ? { revokedAt: row.revoked_at, expiresAt: row.expires_at } : null;
    },

    async revoke(
      trx: Knex.Transaction,
      structureId: string,
      ids: string[],
      by: string,
      at: Date,
    ): Promise<void> {
      if (ids.length === 0) return;
      await trx('consents')
        .where({ structure_id: structureId })
        .whereIn('id', ids)
        .whereNull('revoked_at')
        .update({ revoked_at: at, revoked_by: by });
    },
  };
  return repo;
}

export type ConsentRepository = ReturnType<typeof createConsentRepository>;
