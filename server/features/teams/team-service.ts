import type { Knex } from 'knex';
import { PERSON_ROLES, type Actor } from '../../auth/actor';
import { BusinessRuleError, checkVersion, ConflictError, NotFoundError } from '../../lib/errors';
import type { UnitOfWork } from '../deadlines/outbox';
import { type IdempotencyService, replayById } from '../idempotency/idempotency-service';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import {
  changedMemberships,
  type Membership,
  type TeamRepository,
  type Team,
  type TeamUser,
} from './team-repository';
import type { CreateTeamInput, UpdateTeamInput } from './team-schemas';

type Db = Knex | Knex.Transaction;

/**
 * The users whose forms list these changes: a user's page lists the teams they belong to (not
 * those they lead), so a change of leads alone leaves their version as it is.
 */
const usersOf = (memberships: Membership[]) => [
  ...new Set(memberships.filter((m) => !m.isLead).map((m) => m.userId)),
];

/** "Run the transaction again", as PostgreSQL says it (40001): the unit of work retries it. */
const membersMoved = () =>
  Object.assign(new Error('The team’s members changed while it was being locked'), {
    code: '40001',
  });

/**
 * Teams of a structure (spec §1): workers belong to teams, managers lead them; the backlog
 * groups by them and escalations go to their managers. Admins write, staff read.
 */
export function createTeamService({
  knex,
  uow,
  teams,
  audit,
  idempotency,
}: {
  knex: Knex;
  uow: UnitOfWork;
  teams: TeamRepository;
  audit: AuditTrail;
  idempotency: Pick<IdempotencyService, 'once'>;
}) {
  /** 422 unless every id is an active user of the structure who may hold that place. */
  async function checkUsers(
    db: Db,
    structureId: string,
    ids: string[],
    place: 'member' | 'manager',
  ): Promise<void> {
    const found = await teams.activeUsers(db, structureId, ids);
    const missing = ids.filter((id) => !found.some((u) => u.id === id));
    if (missing.length)
      throw new BusinessRuleError(
        'user_unavailable',
        'Some users are not active users of your structure',
        { field: place === 'member' ? 'memberIds' : 'managerIds', ids: missing },
      );
    const allowed: readonly string[] = place === 'member' ? PERSON_ROLES : ['manager'];
    const wrong = found.filter((u) => !allowed.includes(u.role));
    if (wrong.length)
      throw new BusinessRuleError(
        place === 'member' ? 'not_staff' : 'not_a_manager',
        place === 'member'
          ? 'Only workers and managers belong to teams'
          : 'Only managers lead teams',
        { field: place === 'member' ? 'memberIds' : 'managerIds', ids: wrong.map((u) => u.id) },
      );
  }

  /**
   * Replaces the members, the leads or both (each list given replaces the old one; a list not
   * given stays as it is), written once from both: a user in managerIds leads the team, one in
   * memberIds only belongs to it, so a user moved from one list to the other stays in the team.
   */
  async function write(
    trx: Knex.Transaction,
    actor: Actor,
    teamId: string,
    input: { memberIds?: string[]; managerIds?: string[] },
  ) {
    if (!input.memberIds && !input.managerIds) return;
    if (input.memberIds) await checkUsers(trx, actor.structureId, input.memberIds, 'member');
    if (input.managerIds) await checkUsers(trx, actor.structureId, input.managerIds, 'manager');
    const now = await teams.memberships(trx, { teamId });
    const leads = input.managerIds ?? now.filter((m) => m.isLead).map((m) => m.userId);
    const members = input.memberIds ?? now.filter((m) => !m.isLead).map((m) => m.userId);
    const isLead = new Set(leads);
    await teams.setMembers(
      trx,
      teamId,
      // A user in both lists is stored once, as a lead.
      [...new Set([...leads, ...members])].map((userId) => ({
        teamId,
        userId,
        isLead: isLead.has(userId),
      })),
    );
  }

  const duplicate = () => new ConflictError('Your structure already has a team of this name');

  return {
    async list(actor: Actor): Promise<Page<Team>> {
      const items = await teams.list(knex, actor.structureId);
      return { items, total: items.length, page: 1, pageSize: items.length };
    },

    async get(actor: Actor, id: string): Promise<Team> {
      const team = await teams.find(knex, actor.structureId, id);
      if (!team) throw new NotFoundError('Team');
      return team;
    },

    /** A new team; once per idempotency key: a repeat answers the one the first made. */
    async create(actor: Actor, input: CreateTeamInput, ctx: RequestContext): Promise<Team> {
      return uow((trx) =>
        idempotency.once(trx, actor, ctx, {
          action: 'team.create',
          input,
          async create() {
            const given = [...(input.memberIds ?? []), ...(input.managerIds ?? [])];
            await teams.lockUsers(trx, actor.structureId, given);
            const id = await teams.insert(trx, actor.structureId, input.name);
            if (!id) throw duplicate();
            await write(trx, actor, id, input);
            // The users given a team: their versions move (their forms list their teams).
            await teams.bumpUsers(trx, usersOf(await teams.memberships(trx, { teamId: id })));
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'team.create',
              subjectType: 'team',
              subjectId: id,
              ip: ctx.ip,
            });
            return (await teams.find(trx, actor.structureId, id))!;
          },
          ...replayById('teamId', 'Team', (id) => teams.find(trx, actor.structureId, id)),
        }),
      );
    },

    /** Rename and replace the members or the managers (each list given replaces the old one). */
    async update(
      actor: Actor,
      id: string,
      input: UpdateTeamInput,
      ctx: RequestContext,
    ): Promise<Team> {
      return uow(async (trx) => {
        // The users it may add or remove lock first (a user's change locks the user, then their
        // teams): those of the team as read now and those given.
        const read = await teams.memberships(trx, { teamId: id });
        const lockedUsers = [
          ...read.map((m) => m.userId),
          ...(input.memberIds ?? []),
          ...(input.managerIds ?? []),
        ];
        await teams.lockUsers(trx, actor.structureId, lockedUsers);
        const version = await teams.lock(trx, actor.structureId, id);
        if (version === null) throw new NotFoundError('Team');
        await checkVersion(
          input.version,
          version,
          'This team was changed by someone else; reload it',
          () => teams.find(trx, actor.structureId, id),
        );
        if (input.name && !(await teams.rename(trx, actor.structureId, id, input.name)))
          throw duplicate();
        const before = await teams.memberships(trx, { teamId: id });
        // A member added meanwhile (between the read above and the team's lock) is a user this
        // change did not lock first: run it again rather than lock that user after the team.
        const locked = new Set(lockedUsers);
        if (before.some((m) => !locked.has(m.userId))) throw membersMoved();
        await write(trx, actor, id, input);
        await teams.bumpTeams(trx, [id]);
        // The users who joined, left or changed place: their versions move too.
        const after = await teams.memberships(trx, { teamId: id });
        await teams.bumpUsers(trx, usersOf(changedMemberships(before, after)));
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'team.update',
          subjectType: 'team',
          subjectId: id,
          ip: ctx.ip,
          details: { fields: Object.keys(input) },
        });
        return (await teams.find(trx, actor.structureId, id))!;
      });
    },

    /**
     * Who a user's escalations go to: the active managers leading the teams the user belongs to.
     * A user in no led team escalates to every active manager of the structure, so an escalation
     * never falls into the void. The user is never their own escalation. `escalatesToSql`
     * (`team-escalation.ts`) is the same rule in SQL, for the digest's escalation line.
     */
    async managersOf(db: Db, structureId: string, userId: string): Promise<TeamUser[]> {
      const leads = await teams.leadsOf(db, structureId, userId);
      return leads.length ? leads : teams.activeManagers(db, structureId, userId);
    },

    /** The structure's active managers: who hears of what belongs to no team (a waiting report). */
    structureManagers: (db: Db, structureId: string): Promise<TeamUser[]> =>
      teams.activeManagers(db, structureId),

    /** The teams a user belongs to or leads. */
    teamsOf: (db: Db, structureId: string, userId: string) =>
      teams.teamsOf(db, structureId, userId),

    /** The teams a manager leads (the default filter of their backlog). */
    async ledBy(db: Db, structureId: string, userId: string) {
      return (await teams.teamsOf(db, structureId, userId)).filter((t) => t.isLead);
    },

    /**
     * Sets a user's team memberships (users' PATCH, invitation); 422 on a team not of the
     * structure. Only inside changingMembershipsOf, which locks the teams first and moves their
     * versions.
     */
    async setMemberships(
      trx: Knex.Transaction,
      structureId: string,
      userId: string,
      teamIds: string[],
    ): Promise<void> {
      const found = await teams.existing(trx, structureId, teamIds);
      const unknown = teamIds.filter((t) => !found.includes(t));
      if (unknown.length)
        throw new BusinessRuleError(
          'team_not_found',
          'Some teams are not teams of your structure',
          {
            field: 'teamIds',
            ids: unknown,
          },
        );
      await teams.setMemberships(trx, userId, teamIds);
    },

    /**
     * Runs `change`, which changes a user's memberships (their teams, a role taken away), with
     * the teams it may touch locked first (the user's, and `more`, in id order; the user's own
     * row is locked already), then moves the versions of the teams whose membership of the user
     * changed, or of all the user's teams when `listing` (the account disabled or enabled again
     * changes who the teams list).
     */
    async changingMembershipsOf(
      trx: Knex.Transaction,
      structureId: string,
      userId: string,
      more: string[],
      change: () => Promise<void>,
      listing = false,
    ): Promise<void> {
      const before = await teams.lockTeamsOf(trx, structureId, userId, more);
      await change();
      const after = await teams.memberships(trx, { userId });
      const touched = listing ? [...before, ...after] : changedMemberships(before, after);
      await teams.bumpTeams(trx, [...new Set(touched.map((m) => m.teamId))]);
    },
  };
}

export type TeamService = ReturnType<typeof createTeamService>;
