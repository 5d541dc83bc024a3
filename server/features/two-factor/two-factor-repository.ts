import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

/** A user's second factor as stored: secrets still encrypted (the service holds the cipher). */
export interface TwoFactorRecord {
  userId: string;
  structureId: string;
  role: string;
  email: string;
  secret: string | null;
  pendingSecret: string | null;
  enabledAt: Date | null;
  lastStep: number | null;
  recoveryCodesLeft: number;
}

interface Row {
  id: string;
  structure_id: string;
  role: string;
  email: string;
  totp_secret: string | null;
  totp_pending_secret: string | null;
  totp_enabled_at: Date | null;
  totp_last_step: string | number | null;
  recovery_left: string | number;
}

const toRecord = (r: Row): TwoFactorRecord => ({
  userId: r.id,
  structureId: r.structure_id,
  role: r.role,
  email: r.email,
  secret: r.totp_secret,
  pendingSecret: r.totp_pending_secret,
  enabledAt: r.totp_enabled_at ? new Date(r.totp_enabled_at) : null,
  lastStep: r.totp_last_step === null ? null : Number(r.totp_last_step),
  recoveryCodesLeft: Number(r.recovery_left),
});

/** The second factor's columns of `users` and the `recovery_codes`, scoped by structure. */
export const twoFactorRepository = {
  async find(db: Db, structureId: string, userId: string): Promise<TwoFactorRecord | null> {
    const row = await db('users as u')
      .where({ 'u.id': userId, 'u.structure_id': structureId })
      .first(
        'u.id',
        'u.structure_id',
        'u.role',
        'u.email',
        'u.totp_secret',
        'u.totp_pending_secret',
        'u.totp_enabled_at',
        'u.totp_last_step',
        db('recovery_codes as c')
          .where('c.user_id', db.ref('u.id'))
          .whereNull('c.used_at')
          .count('*')
          .as('recovery_left'),
      );
    return row ? toRecord(row as Row) : null;
  },

  /** Whether the user has a second factor: the one column each request of a manager reads. */
  async enabled(db: Db, userId: string): Promise<boolean> {
    const row = await db('users').where({ id: userId }).first('totp_enabled_at');
    return Boolean(row?.totp_enabled_at);
  },

  async setPending(db: Db, userId: string, encryptedSecret: string): Promise<void> {
    await db('users').where({ id: userId }).update({ totp_pending_secret: encryptedSecret });
  },

  async enable(
    trx: Knex.Transaction,
    userId: string,
    encryptedSecret: string,
    step: number,
    at: Date,
  ): Promise<void> {
    await trx('users').where({ id: userId }).update({
      totp_secret: encryptedSecret,
      totp_pending_secret: null,
      totp_enabled_at: at,
      totp_last_step: step,
    });
  },

  async disable(trx: Knex.Transaction, userId: string): Promise<void> {
    await trx('users').where({ id: userId }).update({
      totp_secret: null,
      totp_pending_secret: null,
      totp_enabled_at: null,
      totp_last_step: null,
    });
    await trx('recovery_codes').where({ user_id: userId }).del();
  },

  /**
   * Records `step` as the last one used, only if it is later than the one stored: false when a
   * code of that step (or a later one) was already accepted, in parallel requests too.
   */
  async useStep(db: Db, userId: string, step: number): Promise<boolean> {
    const n = await db('users')
      .where({ id: userId })
      .whereNotNull('totp_enabled_at')
      .where((q) => q.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
      .update({ totp_last_step: step });
    return n === 1;
  },

  async replaceRecoveryCodes(
    trx: Knex.Transaction,
    userId: string,
    hashes: string[],
    at: Date,
  ): Promise<void> {
    await trx('recovery_codes').where({ user_id: userId }).del();
    await trx('recovery_codes').insert(
      hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: at })),
    );
  },

  /** Marks an unused recovery code used; false when there is none such (or it was used). */
  async useRecoveryCode(db: Db, userId: string, hash: string, at: Date): Promise<boolean> {
    const n = await db('recovery_codes')
      .where({ user_id: userId, code_hash: hash })
      .whereNull('used_at')
      .update({ used_at: at });
    return n === 1;
  },
};
