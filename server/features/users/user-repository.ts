import type { Knex } from 'knex';
import { PERSON_ROLES, type Actor, type Role } from '../../auth/actor';

export interface UserRecord extends Actor {
  passwordHash: string;
  sessionEpoch: number;
  disabledAt: Date | null;
  emailNotifications: boolean;
}

interface UserRow {
  id: string;
  structure_id: string;
  email: string;
  name: string;
  role: Role;
  partner_id: string | null;
  password_hash: string;
  session_epoch: number;
  disabled_at: Date | null;
  email_notifications: boolean;
}

const toUser = (r: UserRow): UserRecord => ({
  id: r.id,
  structureId: r.structure_id,
  email: r.email,
  name: r.name,
  role: r.role,
  partnerId: r.partner_id,
  passwordHash: r.password_hash,
  sessionEpoch: r.session_epoch,
  disabledAt: r.disabled_at,
  emailNotifications: r.email_notifications,
});

interface NewUser {
  structureId: string;
  email: string;
  name: string;
  role: Role;
  partnerId?: string | null;
  passwordHash: string;
}

export const userRepository = {
  async findByEmail(db: Knex, email: string): Promise<UserRecord | null> {
    // No stored email holds a NUL, and PostgreSQL would refuse the query with it (a 500).
    if (email.includes('\u0000')) return null;
    const row = await db('users').whereRaw('lower(email) = lower(?)', [email]).first();
    return row ? toUser(row) : null;
  },

  async findById(db: Knex, id: string): Promise<UserRecord | null> {
    const row = await db('users').where({ id }).first();
    return row ? toUser(row) : null;
  },

  /** Any user of the structure, disabled ones included (a leaver whose work is moved). */
  async findAnyInStructure(
    db: Knex | Knex.Transaction,
    structureId: string,
    id: string,
  ): Promise<UserRecord | null> {
    const row = await db('users').where({ id, structure_id: structureId }).first();
    return row ? toUser(row) : null;
  },

  /**
   * Who counts as active staff, the one place this rule lives: an enabled worker or manager of
   * the structure. They may be a referent, be assigned work, or be handed a referral's follow-up.
   */
  activeStaff(db: Knex | Knex.Transaction, structureId: string) {
    return db('users')
      .where({ structure_id: structureId })
      .whereIn('role', PERSON_ROLES)
      .whereNull('disabled_at');
  },

  /** One active staff member of the structure (see activeStaff), or null. */
  async findActiveStaff(
    db: Knex | Knex.Transaction,
    structureId: string,
    id: string,
  ): Promise<UserRecord | null> {
    const row = await userRepository.activeStaff(db, structureId).andWhere({ id }).first();
    return row ? toUser(row) : null;
  },

  async listActiveStaff(
    db: Knex,
    structureId: string,
  ): Promise<Pick<Actor, 'id' | 'name' | 'role'>[]> {
    return userRepository.activeStaff(db, structureId).select('id', 'name', 'role').orderBy('name');
  },

  async insert(db: Knex | Knex.Transaction, u: NewUser): Promise<UserRecord> {
    const [row] = await db('users')
      .insert({
        structure_id: u.structureId,
        email: u.email,
        name: u.name,
        role: u.role,
        partner_id: u.partnerId ?? null,
        password_hash: u.passwordHash,
      })
      .returning('*');
    return toUser(row);
  },

  /** A new password or a disabled account ends every session: the epoch moves on. */
  async setPassword(db: Knex, id: string, passwordHash: string): Promise<void> {
    await db('users')
      .where({ id })
      .update({
        password_hash: passwordHash,
        session_epoch: db.raw('session_epoch + 1'),
        updated_at: db.fn.now(),
      });
  },

  async setDisabled(db: Knex, id: string, disabled: boolean): Promise<void> {
    await db('users')
      .where({ id })
      .update({
        disabled_at: disabled ? db.fn.now() : null,
        session_epoch: db.raw('session_epoch + 1'),
        updated_at: db.fn.now(),
      });
  },
};
