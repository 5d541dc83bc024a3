import type { Knex } from 'knex';
import { PERSON_ROLES, type Actor, type Role } from '../../auth/actor';
import { pageWithTotal } from '../../lib/paging';

export interface UserRecord extends Actor {
  passwordHash: string;
  sessionEpoch: number;
  disabledAt: Date | null;
  emailNotifications: boolean;
}

/**
 * A user as the session reads it (see findForSession): never its password hash or its second
 * factor's secrets, which only the login and the second factor's own steps read.
 */
export interface SessionUser extends Omit<UserRecord, 'passwordHash'> {
  totpEnabled: boolean;
  /** The structure's stored settings, as stored (the settings feature applies its defaults). */
  structureSettings: unknown;
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

const toUserFields = (r: Omit<UserRow, 'password_hash'>): Omit<UserRecord, 'passwordHash'> => ({
  id: r.id,
  structureId: r.structure_id,
  email: r.email,
  name: r.name,
  role: r.role,
  partnerId: r.partner_id,
  sessionEpoch: r.session_epoch,
  disabledAt: r.disabled_at,
  emailNotifications: r.email_notifications,
});

const toUser = (r: UserRow): UserRecord => ({
  ...toUserFields(r),
  passwordHash: r.password_hash,
});

interface NewUser {
  structureId: string;
  email: string;
  name: string;
  role: Role;
  partnerId?: string | null;
  passwordHash: string;
}

type Db = Knex | Knex.Transaction;

const toSessionUser = (
  row: Omit<UserRow, 'password_hash'> & {
    totp_enabled_at: Date | null;
    structure_settings: unknown;
  },
): SessionUser => ({
  ...toUserFields(row),
  totpEnabled: row.totp_enabled_at !== null,
  structureSettings: row.structure_settings,
});

/**
 * What the session reads of a user (`u`) on every request: what the request's actor and its
 * checks need, and the structure's settings; not the password hash nor the TOTP secrets.
 */
const SESSION_USER_COLUMNS = [
  'u.id',
  'u.structure_id',
  'u.email',
  'u.name',
  'u.role',
  'u.partner_id',
  'u.session_epoch',
  'u.disabled_at',
  'u.email_notifications',
  'u.totp_enabled_at',
  's.settings as structure_settings',
];
const withStructure = (q: Knex.QueryBuilder) =>
  q.leftJoin('structures as s', 's.id', 'u.structure_id');

/**
 * The user id passport keeps in a session's data, as a uuid; null when it holds none or not a
 * uuid (a cast would fail the statement).
 */
const SESSION_USER_ID = `CASE WHEN x.sess #>> '{passport,user,id}' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (x.sess #>> '{passport,user,id}')::uuid END`;

/** A user as admins list them: no secret, with their teams. */
export interface UserSummary {
  id: string;
  email: string;
  name: string;
  role: Role;
  partnerId: string | null;
  disabled: boolean;
  /** Whether a password was ever set (an invitation not yet answered has none). */
  passwordSet: boolean;
  teams: { id: string; name: string; isLead: boolean }[];
  createdAt: Date;
  /** Moves with every change an administrator makes to the account (409 when stale). */
  version: number;
}

/** The hash an invited user has until they choose a password: argon2 never verifies it. */
export const NO_PASSWORD = '!invited';

export interface UserListFilter {
  id?: string;
  role?: Role;
  partnerId?: string;
  disabled?: boolean;
  page: number;
  pageSize: number;
}

export function createUserRepository() {
  const repo = {
    async listInStructure(
      db: Db,
      structureId: string,
      f: UserListFilter,
    ): Promise<{ items: UserSummary[]; total: number }> {
      const base = db('users').where({ structure_id: structureId });
      if (f.id) base.where({ id: f.id });
      if (f.role) base.where({ role: f.role });
      if (f.partnerId) base.where({ partner_id: f.partnerId });
      if (f.disabled === true) base.whereNotNull('disabled_at');
      if (f.disabled === false) base.whereNull('disabled_at');
      const { rows, total } = await pageWithTotal(
        f,
        (limit, offset) =>
          base
            .clone()
            .orderBy([{ column: 'name' }, { column: 'id' }])
            .limit(limit)
            .offset(offset)
            .select(
              'id',
              'email',
              'name',
              'role',
              'partner_id',
              'disabled_at',
              'password_hash',
              'created_at',
              'version',
            ),
        () =>
          base
            .clone()
            .count<{ count: string }[]>('* as count')
            .then(([r]) => r.count),
      );
      const teams: { user_id: string; id: string; name: string; is_lead: boolean }[] = rows.length
        ? await db('team_members as tm')
            .join('teams as t', 't.id', 'tm.team_id')
            .whereIn(
              'tm.user_id',
              rows.map((r: { id: string }) => r.id),
            )
            .where('t.structure_id', structureId)
            .orderBy('t.name')
            .select('tm.user_id', 't.id', 't.name', 'tm.is_lead')
        : [];
      return {
        total,
        items: rows.map((r: UserRow & { created_at: Date; version: number }) => ({
          id: r.id,
          email: r.email,
          name: r.name,
          role: r.role,
          partnerId: r.partner_id,
          disabled: r.disabled_at !== null,
          passwordSet: r.password_hash !== NO_PASSWORD,
          teams: teams
            .filter((t) => t.user_id === r.id)
            .map((t) => ({ id: t.id, name: t.name, isLead: t.is_lead })),
          createdAt: new Date(r.created_at),
          version: r.version,
        })),
      };
    },

    async lockInStructure(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<(UserRecord & { version: number }) | null> {
      // NO KEY UPDATE: a team's change adding the user checks its foreign key (KEY SHARE)
      // without waiting. Users lock before teams, whoever changes a membership (a team's change
      // locks the users it may add or remove first: the team repository's lockUsers).
      const row = await trx('users')
        .where({ id, structure_id: structureId })
        .forNoKeyUpdate()
        .first();
      return row ? { ...toUser(row), version: row.version as number } : null;
    },

    async update(
      trx: Knex.Transaction,
      id: string,
      u: { name?: string; role?: Role; disabled?: boolean },
    ): Promise<void> {
      const change: Record<string, unknown> = {
        updated_at: trx.fn.now(),
        version: trx.raw('version + 1'),
      };
      if (u.name !== undefined) change.name = u.name;
      if (u.role !== undefined) change.role = u.role;
      if (u.disabled !== undefined) change.disabled_at = u.disabled ? trx.fn.now() : null;
      await trx('users').where({ id }).update(change);
    },

    /**
     * Ends every session of the user, the one way each change that must do it does it: the
     * session epoch moves on, so that a session a request in flight writes back afterwards no
     * longer holds either (passport checks the epoch on every request), and the user's rows of
     * the session store are removed.
     */
    async endSessions(db: Db, userId: string): Promise<number> {
      await db('users')
        .where({ id: userId })
        .update({ session_epoch: db.raw('session_epoch + 1') });
      return db('sessions')
        .whereRaw("(sess::jsonb -> 'passport' -> 'user' ->> 'id') = ?", [userId])
        .del();
    },

    /** The teams a user leads stop being led by them when they are no longer a manager. */
    async dropLeads(trx: Knex.Transaction, userId: string): Promise<void> {
      await trx('team_members').where({ user_id: userId, is_lead: true }).del();
    },

    async dropMemberships(trx: Knex.Transaction, userId: string): Promise<void> {
      await trx('team_members').where({ user_id: userId }).del();
    },

    async structureName(db: Db, structureId: string): Promise<string | null> {
      const row = await db('structures').where({ id: structureId }).first('name');
      return row ? (row.name as string) : null;
    },

    /** The user of the structure with this email (case-insensitive), disabled ones included. */
    async findInStructureByEmail(
      db: Db,
      structureId: string,
      email: string,
    ): Promise<UserRecord | null> {
      if (email.includes('\u0000')) return null;
      const row = await db('users')
        .where({ structure_id: structureId })
        .whereRaw('lower(email) = lower(?)', [email])
        .first();
      return row ? toUser(row) : null;
    },

    async findByEmail(db: Knex, email: string): Promise<UserRecord | null> {
      // No stored email holds a NUL, and PostgreSQL would refuse the query with it (a 500).
      if (email.includes('\u0000')) return null;
      const row = await db('users').whereRaw('lower(email) = lower(?)', [email]).first();
      return row ? toUser(row) : null;
    },

    /**
     * The user as the session reads it on every request, with what the two-factor gate needs in
     * the same statement: whether their second factor is on, and their structure's settings.
     */
    async findForSession(db: Knex, id: string): Promise<SessionUser | null> {
      const row = await withStructure(db('users as u'))
        .where('u.id', id)
        .first(...SESSION_USER_COLUMNS);
      return row ? toSessionUser(row) : null;
    },

    /**
     * A live session row and, in the same statement, the user it is signed in as (what
     * findForSession reads): one round trip for what every signed-in request needs first.
     * Null when no session of that sid lives at `at`; `user` null when the session holds no
     * user, or one that no longer exists. The session data comes back as stored.
     */
    async findSessionWithUser(
      db: Knex,
      sid: string,
      at: Date,
    ): Promise<{ sess: unknown; user: SessionUser | null } | null> {
      const row = await withStructure(
        db('sessions as x').leftJoin('users as u', (j) =>
          j.on('u.id', '=', db.raw(SESSION_USER_ID)),
        ),
      )
        .where('x.sid', sid)
        .andWhere('x.expire', '>=', at)
        .first('x.sess as session_data', ...SESSION_USER_COLUMNS);
      if (!row) return null;
      return { sess: row.session_data, user: row.id ? toSessionUser(row) : null };
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

    /**
     * Serialises the changes that may leave a structure without an enabled admin, until the
     * transaction ends: two admins demoting or disabling each other at once would each count
     * the other and both pass (row locks on the two users do not see each other's change).
     */
    async lockAdminsOf(trx: Knex.Transaction, structureId: string): Promise<void> {
      await trx.raw("SELECT pg_advisory_xact_lock(hashtext('users.admins'), hashtext(?))", [
        structureId,
      ]);
    },

    /** How many enabled admins the structure has besides `exceptId`. */
    async countOtherEnabledAdmins(
      db: Knex | Knex.Transaction,
      structureId: string,
      exceptId: string,
    ): Promise<number> {
      const [{ n }] = await db('users')
        .where({ structure_id: structureId, role: 'admin' })
        .whereNull('disabled_at')
        .whereNot({ id: exceptId })
        .count<{ n: string }[]>('* as n');
      return Number(n);
    },

    /** The structure's enabled managers (told of what concerns the whole structure). */
    async activeManagerIds(db: Knex | Knex.Transaction, structureId: string): Promise<string[]> {
      return (await repo
        .activeStaff(db, structureId)
        .andWhere({ role: 'manager' })
        .orderBy('id')
        .pluck('id')) as string[];
    },

    /** One active staff member of the structure (see activeStaff), or null. */
    async findActiveStaff(
      db: Knex | Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<UserRecord | null> {
      const row = await repo.activeStaff(db, structureId).andWhere({ id }).first();
      return row ? toUser(row) : null;
    },

    async listActiveStaff(
      db: Knex,
      structureId: string,
    ): Promise<Pick<Actor, 'id' | 'name' | 'role'>[]> {
      return repo.activeStaff(db, structureId).select('id', 'name', 'role').orderBy('name');
    },

    /**
     * Null when a user already has this address, in any case (the unique key on lower(email)
     * decides, not a prior read: two invitations at once both pass a read).
     */
    async insert(db: Knex | Knex.Transaction, u: NewUser): Promise<UserRecord | null> {
      const [row] = await db('users')
        .insert({
          structure_id: u.structureId,
          email: u.email,
          name: u.name,
          role: u.role,
          partner_id: u.partnerId ?? null,
          password_hash: u.passwordHash,
        })
        .onConflict(db.raw('(lower(email))'))
        .ignore()
        .returning('*');
      return row ? toUser(row) : null;
    },

    /** A new password; the caller ends the user's sessions with it (`endSessions`). */
    async setPassword(db: Db, id: string, passwordHash: string): Promise<void> {
      await db('users')
        .where({ id })
        .update({ password_hash: passwordHash, updated_at: db.fn.now() });
    },

    /** Whether the user wants emails besides the app (the digest); null when there is no such user. */
    async emailNotificationsOf(db: Knex, id: string): Promise<boolean | null> {
      const row = await db('users').where({ id }).first('email_notifications');
      return row ? row.email_notifications : null;
    },

    async setEmailNotifications(db: Knex, id: string, on: boolean): Promise<boolean | null> {
      const [row] = await db('users')
        .where({ id })
        .update({ email_notifications: on, updated_at: db.fn.now() })
        .returning('email_notifications');
      return row ? row.email_notifications : null;
    },
  };
  return repo;
}

export type UserRepository = ReturnType<typeof createUserRepository>;
