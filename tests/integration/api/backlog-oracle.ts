import type { Knex } from 'knex';
import type {
  BacklogBounds,
  BacklogGroup,
} from '../../../server/features/backlog/backlog-repository';
import { backlogBounds } from '../../../server/features/backlog/backlog-service';
import type { BacklogGrouping } from '../../../server/features/backlog/backlog-schemas';
import { createBusinessCalendar } from '../../../server/lib/calendar';

/**
 * What the backlog's counter tests share: the per-row counts the counters replaced (their
 * oracle), the service's bounds in a calendar of any zone, and the zones and steps they test.
 */
export const ZONES = ['Europe/Paris', 'Indian/Reunion', 'America/Cayenne', 'UTC'];
export const MS = 1;
export const DAY = 24 * 60 * 60 * 1000;

export interface Row {
  bucket: string;
  key: string;
  count: number;
}

/** The repository's groups as count rows, a bucket and a key each, as the oracle gives them. */
export const countRows = (groups: BacklogGroup[]): Row[] =>
  groups.flatMap((g) =>
    Object.entries(g.counts)
      .filter(([, count]) => count > 0)
      .map(([bucket, count]) => ({ bucket, key: g.key, count })),
  );

export const sorted = (rows: Row[]) =>
  [...rows].sort((a, b) => `${a.bucket}${a.key}`.localeCompare(`${b.bucket}${b.key}`));

/** The bounds the backlog service computes from a clock, in a calendar of the given zone. */
export const boundsAt = (now: Date, timeZone: string) =>
  backlogBounds(createBusinessCalendar({ timeZone }), now);

/** The rows counted, one by one, as the backlog counted them before its counters. */
export interface PerRowSource {
  /** The table and its alias, e.g. `persons p`. */
  from: string;
  /** The alias's rows that count: active files, open follow-ups. */
  counted: string;
  /** The column that says whose row it is (referent, assignee). */
  owner: string;
  /** How a row reaches its file's district. */
  district: { join: string; key: string };
  /** Each bucket's condition on the row, with named bindings among the bounds'. */
  buckets: Record<string, string>;
}

export async function perRowCounts(
  k: Knex,
  source: PerRowSource,
  scope: { structureId: string; groupBy: BacklogGrouping; teamId?: string },
  b: BacklogBounds,
): Promise<Row[]> {
  const alias = source.from.split(' ').pop()!;
  const team = scope.teamId
    ? `AND ${source.owner} IN (SELECT tf.user_id FROM team_members tf WHERE tf.team_id = :teamId)`
    : '';
  const group =
    scope.groupBy === 'team'
      ? {
          join: `JOIN team_members tm ON tm.user_id = ${source.owner}
                 JOIN teams t ON t.id = tm.team_id AND t.structure_id = :structureId
                 ${scope.teamId ? 'AND t.id = :teamId' : ''}`,
          key: 'tm.team_id',
        }
      : scope.groupBy === 'district'
        ? source.district
        : { join: '', key: source.owner };
  const { rows } = await k.raw(
    Object.entries(source.buckets)
      .map(
        ([bucket, where]) =>
          `SELECT '${bucket}' AS bucket, CAST(${group.key} AS text) AS key, count(*) AS count
             FROM ${source.from} ${group.join}
            WHERE ${alias}.structure_id = :structureId AND ${source.counted} AND ${where} ${team}
            GROUP BY ${group.key}`,
      )
      .join(' UNION ALL '),
    { structureId: scope.structureId, teamId: scope.teamId ?? null, ...b },
  );
  return sorted(
    (rows as { bucket: string; key: string | null; count: string }[]).map((r) => ({
      bucket: r.bucket,
      key: r.key ?? 'none',
      count: Number(r.count),
    })),
  );
}
