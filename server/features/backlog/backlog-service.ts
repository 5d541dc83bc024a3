import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { BusinessCalendar } from '../../lib/calendar';
import type { Clock } from '../../lib/clock';
import { NotFoundError } from '../../lib/errors';
import { compareFrench } from '../../lib/french-order';
import type { Page } from '../../lib/validate';
import type { TeamService } from '../teams/team-service';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type {
  BacklogBounds,
  BacklogGroup,
  BacklogItem,
  BacklogRepository,
} from './backlog-repository';
import {
  BACKLOG_BUCKETS,
  NO_KEY,
  type BacklogBucket,
  type BacklogGrouping,
  type BacklogItemsQuery,
  type BacklogQuery,
} from './backlog-schemas';

export interface Backlog {
  groupBy: BacklogGrouping;
  /** The one team filtered; null for the whole structure or for several teams (see teamIds). */
  teamId: string | null;
  /** The teams filtered, each item of their members once; empty for the whole structure. */
  teamIds: string[];
  /** The moment the numbers were computed at, and the bounds they were cut at. */
  at: Date;
  groups: BacklogGroup[];
  totals: Record<BacklogBucket, number>;
}

/** A manager's home: the backlog, and the teams they lead (its filter unless they choose). */
export interface ManagerBacklog extends Backlog {
  ledTeamIds: string[];
}

export interface BacklogServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  clock: Clock;
  calendar: BusinessCalendar;
  backlog: BacklogRepository;
  teams: Pick<TeamService, 'ledBy'>;
}

/** The team filter of a query, one id or several (the parameter repeated), each once. */
const teamIdsOf = (teamId: string | string[] | undefined): string[] =>
  teamId === undefined ? [] : [...new Set([teamId].flat())];

/** Each bucket's count over the groups, for groupings where each row is in one group. */
function sumOf(groups: BacklogGroup[]): Record<BacklogBucket, number> {
  const totals = Object.fromEntries(BACKLOG_BUCKETS.map((b) => [b, 0])) as Record<
    BacklogBucket,
    number
  >;
  for (const g of groups) for (const b of BACKLOG_BUCKETS) totals[b] += g.counts[b];
  return totals;
}

/** The instants the backlog's buckets are cut at, in the calendar's days, from `now`. */
export function backlogBounds(calendar: BusinessCalendar, now: Date): BacklogBounds {
  return {
    now,
    late7: calendar.startOfDay(now, -7),
    late30: calendar.startOfDay(now, -30),
    weekEnd: calendar.startOfNextWeek(now),
    contact30: calendar.startOfDay(now, -29),
    contact90: calendar.startOfDay(now, -89),
  };
}

/**
 * The manager's desk: the structure's open work grouped by assignee, team, district or partner,
 * cut in Paris calendar days from the injected clock. The numbers and the items behind them come
 * from the same SQL condition, so they cannot disagree; the no-contact numbers come from counters
 * kept by triggers, tested equal to that condition (backlog-counters.test.ts).
 */
export function createBacklogService({
  knex,
  clock,
  calendar,
  backlog,
  audit,
  teams,
}: BacklogServiceDeps) {
  /**
   * The bounds of the calendar day of `now`, kept for that day: each one is a local midnight
   * found through the time zone's rules (several Intl lookups each: 7 % of a profile's sampled
   * time when computed for every summary), and all but `now` stay the same until midnight.
   */
  let day: { from: number; to: number; bounds: BacklogBounds } | null = null;
  const bounds = (now: Date): BacklogBounds => {
    const t = now.getTime();
    if (!day || t < day.from || t >= day.to)
      day = {
        from: calendar.startOfDay(now).getTime(),
        to: calendar.startOfDay(now, 1).getTime(),
        bounds: backlogBounds(calendar, now),
      };
    return { ...day.bounds, now };
  };

  /** The query's teams, 404 unless each is a team of the actor's structure. */
  async function teamsOf(actor: Actor, teamId: string | string[] | undefined) {
    const teamIds = teamIdsOf(teamId);
    if (teamIds.length) {
      const found = await backlog.teamsOf(knex, actor.structureId, teamIds);
      if (found.length < teamIds.length) throw new NotFoundError('Team');
    }
    return teamIds;
  }

  async function summary(actor: Actor, q: BacklogQuery): Promise<Backlog> {
    const teamIds = await teamsOf(actor, q.teamId);
    const now = clock.now();
    const scope = { structureId: actor.structureId, groupBy: q.groupBy, teamIds };
    const at = bounds(now);
    const groups = await backlog.groups(knex, scope, at);
    // By assignee or district each row is in one group, so the groups add up to the totals.
    // By team a row counts in each team of its user, and by partner only the work of files
    // referred to a partner shows: the totals are then counted on their own, each row once.
    const totals =
      q.groupBy === 'assignee' || q.groupBy === 'district'
        ? sumOf(groups)
        : await backlog.totals(knex, { structureId: actor.structureId, teamIds }, at);
    groups.sort(
      (a, b) =>
        Number(a.key === NO_KEY) - Number(b.key === NO_KEY) ||
        compareFrench(a.label ?? '', b.label ?? '') ||
        a.key.localeCompare(b.key),
    );
    const teamId = teamIds.length === 1 ? teamIds[0] : null;
    return { groupBy: q.groupBy, teamId, teamIds, at: now, groups, totals };
  }

  return {
    summary,

    /**
     * The manager's home (spec: their team's backlog): without a team chosen (`teamChosen`
     * false, the page's address has no teamId at all), the teams they lead; the whole structure
     * when they lead none or chose it (an empty teamId).
     */
    async home(actor: Actor, q: BacklogQuery, teamChosen: boolean): Promise<ManagerBacklog> {
      const ledTeamIds = (await teams.ledBy(knex, actor.structureId, actor.id)).map((t) => t.id);
      const teamId = teamChosen || ledTeamIds.length === 0 ? q.teamId : ledTeamIds;
      return { ...(await summary(actor, { ...q, teamId })), ledTeamIds };
    },

    /** The items behind one number; they name persons, so the read is audited. */
    async items(
      actor: Actor,
      q: BacklogItemsQuery,
      ctx: RequestContext,
    ): Promise<Page<BacklogItem> & { label: string | null }> {
      const teamIds = await teamsOf(actor, q.teamId);
      const label =
        q.key === NO_KEY ? null : await backlog.label(knex, actor.structureId, q.groupBy, q.key);
      // Reports waiting triage are all in the group without a key.
      const { items, total } =
        q.bucket === 'reports'
          ? q.key === NO_KEY
            ? await backlog.waitingReports(knex, actor.structureId, q)
            : { items: [], total: 0 }
          : await backlog.items(
              knex,
              { structureId: actor.structureId, groupBy: q.groupBy, teamIds },
              bounds(clock.now()),
              q.bucket,
              q.key,
              q,
            );
      await audit.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'backlog.items',
        subjectType: 'person',
        ip: ctx.ip,
        details: {
          bucket: q.bucket,
          groupBy: q.groupBy,
          key: q.key,
          results: items.length,
          // The persons, as a person search lists them (`LIST_READ_ACTIONS`).
          ids: [...new Set(items.flatMap((i) => ('personId' in i ? [i.personId] : [])))],
          ...(q.bucket === 'reports' ? { reportIds: items.map((i) => i.id) } : {}),
        },
      });
      return {
        items,
        total,
        page: q.page,
        pageSize: q.pageSize,
        label,
      };
    },
  };
}

export type BacklogService = ReturnType<typeof createBacklogService>;
