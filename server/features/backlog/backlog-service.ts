import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { BusinessCalendar } from '../../lib/calendar';
import type { Clock } from '../../lib/clock';
import { NotFoundError } from '../../lib/errors';
import { compareFrench } from '../../lib/french-order';
import type { Page } from '../../lib/validate';
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
  teamId: string | null;
  /** The moment the numbers were computed at, and the bounds they were cut at. */
  at: Date;
  groups: BacklogGroup[];
  totals: Record<BacklogBucket, number>;
}

export interface BacklogServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  clock: Clock;
  calendar: BusinessCalendar;
  backlog: BacklogRepository;
}

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

  async function checkTeam(actor: Actor, teamId: string | undefined) {
    if (teamId && !(await backlog.teamExists(knex, actor.structureId, teamId)))
      throw new NotFoundError('Team');
  }

  return {
    async summary(actor: Actor, q: BacklogQuery): Promise<Backlog> {
      await checkTeam(actor, q.teamId);
      const now = clock.now();
      const scope = { structureId: actor.structureId, groupBy: q.groupBy, teamId: q.teamId };
      const at = bounds(now);
      const groups = await backlog.groups(knex, scope, at);
      // By assignee or district each row is in one group, so the groups add up to the totals.
      // By team a row counts in each team of its user, and by partner only the work of files
      // referred to a partner shows: the totals are then counted on their own, each row once.
      const totals =
        q.groupBy === 'assignee' || q.groupBy === 'district'
          ? sumOf(groups)
          : await backlog.totals(knex, { structureId: actor.structureId, teamId: q.teamId }, at);
      groups.sort(
        (a, b) =>
          Number(a.key === NO_KEY) - Number(b.key === NO_KEY) ||
          compareFrench(a.label ?? '', b.label ?? '') ||
          a.key.localeCompare(b.key),
      );
      return { groupBy: q.groupBy, teamId: q.teamId ?? null, at: now, groups, totals };
    },

    /** The items behind one number; they name persons, so the read is audited. */
    async items(
      actor: Actor,
      q: BacklogItemsQuery,
      ctx: RequestContext,
    ): Promise<Page<BacklogItem> & { label: string | null }> {
      await checkTeam(actor, q.teamId);
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
              { structureId: actor.structureId, groupBy: q.groupBy, teamId: q.teamId },
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
