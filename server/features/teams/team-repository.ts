import type { Knex } from 'knex';
import { byFrenchName } from '../../lib/french-order';
import type { Role } from '../../auth/actor';

type Db = Knex | Knex.Transaction;

export interface TeamUser {
  id: string;
  name: string;
  role: Role;
}

export interface Team {
  id: string;
  name: string;
  /** Moves with every change of the name, members or leads (409 when a change is stale). */
  version: number;
  /** Who belongs to the team (workers, and managers who work in it). */
  members: TeamUser[];
  /** The managers who lead it: escalations and the team's backlog go to them. */
  managers: TeamUser[];
}

/** One row of `team_members`: a user in a team, leading it or not. */
export interface Membership {
  teamId: string;
  userId: string;
  isLead: boolean;
}

/** The memberships in one list and not in the other, either way. */
export function changedMemberships(before: Membership[], after: Membership[]): Membership[] {
  const key = (m: Membership) => `${m.teamId}:${m.userId}:${m.isLead}`;
  const had = new Set(before.map(key));
  const has = new Set(after.map(key));
  return [...before.filter((m) => !has.has(key(m))), ...after.filter((m) => !had.has(key(m)))];
}

interface MembershipRow {
  team_id: string;
  id: string;
  name: string;
  role: Role;
  is_lead: boolean;
}

/** Teams of one structure and who belongs to or leads them (`team_members.is_lead`). */
export function createTeamRepository() {
  const repo = {
    async list(db: Db, structureId: string, ids?: string[]): Promise<Team[]> {
      const q = db('teams').where({ structure_id: structureId }).select('id', 'name', 'version');
      if (ids) q.whereIn('id', ids);
      const teams: { id: string; name: string; version: number }[] = await q;
      if (teams.length === 0) return [];
      // Disabled users stay in the rows (re-enabling restores them) but are not listed.
      const rows: MembershipRow[] = await db('team_members as tm')
        .join('users as u', 'u.id', 'tm.user_id')
        .whereIn(
          'tm.team_id',
          teams.map((t) => t.id),
        )
        .where('u.structure_id', structureId)
        .whereNull('u.disabled_at')
        .select('tm.team_id', 'u.id', 'u.name', 'u.role', 'tm.is_lead');
      return teams
        .map((t) => {
          const mine = rows.filter((r) => r.team_id === t.id);
          const user = (r: MembershipRow): TeamUser => ({ id: r.id, name: r.name, role: r.role });
          return {
            id: t.id,
            name: t.name,
            version: t.version,
            members: mine
              .filter((r) => !r.is_lead)
              .map(user)
              .sort(byFrenchName),
            managers: mine
              .filter((r) => r.is_lead)
              .map(user)
              .sort(byFrenchName),
          };
        })
        .sort(byFrenchName);
    },

    async find(db: Db, structureId: string, id: string): Promise<Team | null> {
      const [team] = await repo.list(db, structureId, [id]);
      return team ?? null;
    },

    /** The team's version, its row locked; null when it is not a team of the structure. */
    async lock(trx: Knex.Transaction, structureId: string, id: string): Promise<number | null> {
      const row = await trx('teams')
        .where({ id, structure_id: structureId })
        .forUpdate()
        .first('version');
      return row ? (row.version as number) : null;
    },

    /**
     * Locks the teams a user belongs to or leads, and `more`, in id order, and answers the user's
     * memberships as they stand under those locks. A user's change locks the user first, then
     * these; a team's change locks its members' users first, then the team (lockUsers): one
     * order, so no two changes wait on each other.
     */
    async lockTeamsOf(
      trx: Knex.Transaction,
      structureId: string,
      userId: string,
      more: string[] = [],
    ): Promise<Membership[]> {
      const mine = trx('team_members').where({ user_id: userId }).select('team_id');
      await trx('teams')
        .where({ structure_id: structureId })
        .where((q) => q.whereIn('id', mine).orWhereIn('id', more))
        .orderBy('id')
        .forUpdate()
        .select('id');
      return repo.memberships(trx, { userId });
    },

    /**
     * Memberships, as `team_members` rows: a user's (each team, leading it or not) or a team's
     * (its members and leads, disabled users included: their rows stay).
     */
    async memberships(db: Db, of: { userId: string } | { teamId: string }): Promise<Membership[]> {
      const rows: { team_id: string; user_id: string; is_lead: boolean }[] = await db(
        'team_members',
      )
        .where('userId' in of ? { user_id: of.userId } : { team_id: of.teamId })
        .select('team_id', 'user_id', 'is_lead');
      return rows.map((r) => ({ teamId: r.team_id, userId: r.user_id, isLead: r.is_lead }));
    },

    /**
     * Locks users of the structure in id order (`FOR NO KEY UPDATE`, as a user's change does):
     * a team's change takes its members' users before the team.
     */
    async lockUsers(trx: Knex.Transaction, structureId: string, ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await trx('users')
        .where({ structure_id: structureId })
        .whereIn('id', [...new Set(ids)])
        .orderBy('id')
        .forNoKeyUpdate()
        .select('id');
    },

    /** Moves the versions of these teams (their rows already locked): a change of theirs. */
    async bumpTeams(trx: Knex.Transaction, ids: string[]): Promise<void> {
      if (ids.length) await trx('teams').whereIn('id', ids).increment('version', 1);
    },

    /** Moves the versions of these users (their rows already locked). */
    async bumpUsers(trx: Knex.Transaction, ids: string[]): Promise<void> {
      if (ids.length) await trx('users').whereIn('id', ids).increment('version', 1);
    },

    /** null when the structure already has a team of that name. */
    async insert(trx: Knex.Transaction, structureId: string, name: string): Promise<string | null> {
      const [row] = await trx('teams')
        .insert({ structure_id: structureId, name })
        .onConflict(['structure_id', 'name'])
        .ignore()
        .returning('id');
      return row ? (row.id as string) : null;
    },

    /** False when another team of the structure has that name. */
    async rename(
      trx: Knex.Transaction,
      structureId: string,
      id: string,
      name: string,
    ): Promise<boolean> {
      const taken = await trx('teams')
        .where({ structure_id: structureId, name })
        .whereNot({ id })
        .first('id');
      if (taken) return false;
      await trx('teams').where({ id, structure_id: structureId }).update({ name });
      return true;
    },

    /**
     * Writes a team's rows at once: these users, each leading it or not, and nobody else. A user
     * already in the team keeps their row and takes the place given (a lead made a member, or the
     * reverse). A disabled user's row stays (the lists show active users only; re-enabling
     * restores it).
     */
    async setMembers(trx: Knex.Transaction, teamId: string, rows: Membership[]): Promise<void> {
      await trx('team_members')
        .where({ team_id: teamId })
        .whereNotIn(
          'user_id',
          rows.map((r) => r.userId),
        )
        .whereNotIn('user_id', trx('users').whereNotNull('disabled_at').select('id'))
        .del();
      if (rows.length === 0) return;
      await trx('team_members')
        .insert(rows.map((r) => ({ team_id: teamId, user_id: r.userId, is_lead: r.isLead })))
        .onConflict(['team_id', 'user_id'])
        .merge(['is_lead']);
    },

    /** The active users among `ids` in the structure, with their role. */
    async activeUsers(db: Db, structureId: string, ids: string[]): Promise<TeamUser[]> {
      if (ids.length === 0) return [];
      return db('users')
        .where({ structure_id: structureId })
        .whereIn('id', ids)
        .whereNull('disabled_at')
        .select('id', 'name', 'role');
    },

    async existing(db: Db, structureId: string, ids: string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows: { id: string }[] = await db('teams')
        .where({ structure_id: structureId })
        .whereIn('id', ids)
        .select('id');
      return rows.map((r) => r.id);
    },

    /** The teams a user belongs to or leads. */
    async teamsOf(db: Db, structureId: string, userId: string) {
      return db('teams as t')
        .join('team_members as tm', 'tm.team_id', 't.id')
        .where({ 't.structure_id': structureId, 'tm.user_id': userId })
        .select('t.id', 't.name', 'tm.is_lead as isLead')
        .orderBy('t.name') as Promise<{ id: string; name: string; isLead: boolean }[]>;
    },

    /** Sets the teams a user belongs to as a member; the teams they lead are left alone. */
    async setMemberships(trx: Knex.Transaction, userId: string, teamIds: string[]) {
      await trx('team_members').where({ user_id: userId, is_lead: false }).del();
      if (teamIds.length === 0) return;
      await trx('team_members')
        .insert(teamIds.map((team_id) => ({ team_id, user_id: userId, is_lead: false })))
        .onConflict(['team_id', 'user_id'])
        .ignore();
    },

    /** The active managers who lead a team the user belongs to (or leads), the user excluded. */
    async leadsOf(db: Db, structureId: string, userId: string): Promise<TeamUser[]> {
      return db('team_members as mine')
        .join('teams as t', 't.id', 'mine.team_id')
        .join('team_members as lead', function () {
          this.on('lead.team_id', '=', 'mine.team_id').andOn('lead.is_lead', '=', db.raw('true'));
        })
        .join('users as u', 'u.id', 'lead.user_id')
        .where({
          'mine.user_id': userId,
          't.structure_id': structureId,
          'u.structure_id': structureId,
        })
        .where('u.role', 'manager')
        .whereNull('u.disabled_at')
        .whereNot('u.id', userId)
        .distinct('u.id', 'u.name', 'u.role')
        .orderBy('u.name');
    },

    async activeManagers(db: Db, structureId: string, except?: string): Promise<TeamUser[]> {
      const q = db('users')
        .where({ structure_id: structureId, role: 'manager' })
        .whereNull('disabled_at')
        .select('id', 'name', 'role')
        .orderBy('name');
      if (except) q.whereNot({ id: except });
      return q;
    },
  };
  return repo;
}

export type TeamRepository = ReturnType<typeof createTeamRepository>;
