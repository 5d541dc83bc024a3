import type { Knex } from 'knex';
import {
  createBacklogRepository,
  type BacklogBounds,
  type BacklogGroup,
} from '../../../server/features/backlog/backlog-repository';
import { backlogBounds } from '../../../server/features/backlog/backlog-service';
import { OPEN_STATUSES, sqlStatusList } from '../../../server/features/referrals/referral-state';
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
  /** How a row reaches the partners its file is referred to (when grouped by partner). */
  partner?: { join: string; key: string };
  /** Each bucket's condition on the row, with named bindings among the bounds'. */
  buckets: Record<string, string>;
}

const partnerOf = (source: PerRowSource) => {
  if (!source.partner) throw new Error(`${source.from}: no partner grouping given`);
  return source.partner;
};

export async function perRowCounts(
  k: Knex,
  source: PerRowSource,
  scope: { structureId: string; groupBy: BacklogGrouping; teamIds?: string[] },
  b: BacklogBounds,
): Promise<Row[]> {
  const alias = source.from.split(' ').pop()!;
  const teams = !!scope.teamIds?.length;
  const team = teams
    ? `AND ${source.owner} IN (SELECT tf.user_id FROM team_members tf WHERE tf.team_id = ANY(:teamIds))`
    : '';
  const group =
    scope.groupBy === 'team'
      ? {
          join: `JOIN team_members tm ON tm.user_id = ${source.owner}
                 JOIN teams t ON t.id = tm.team_id AND t.structure_id = :structureId
                 ${teams ? 'AND t.id = ANY(:teamIds)' : ''}`,
          key: 'tm.team_id',
        }
      : scope.groupBy === 'district'
        ? source.district
        : scope.groupBy === 'partner'
          ? partnerOf(source)
          : { join: '', key: source.owner };
  const count = (where: string, g: { join: string; key: string }, also = '') =>
    `SELECT CAST(${g.key} AS text) AS key, count(*) AS count
       FROM ${source.from} ${g.join}
      WHERE ${alias}.structure_id = :structureId AND ${source.counted} AND ${where} ${team} ${also}
      GROUP BY ${g.key}`;
  // Without a team filter, the rows of a user in no team of the structure (or of no user) make
  // the "none" team.
  const teamless =
    scope.groupBy === 'team' && !teams
      ? `AND NOT EXISTS (SELECT 1 FROM team_members nm JOIN teams nt ON nt.id = nm.team_id
           WHERE nm.user_id = ${source.owner} AND nt.structure_id = :structureId)`
      : null;
  const { rows } = await k.raw(
    Object.entries(source.buckets)
      .map(([bucket, where]) =>
        [
          count(where, group),
          ...(teamless === null
            ? []
            : [count(where, { join: '', key: 'CAST(NULL AS uuid)' }, teamless)]),
        ]
          .map(
            (q) => `SELECT '${bucket}' AS bucket, x.key, x.count FROM (${q}) x WHERE x.count > 0`,
          )
          .join(' UNION ALL '),
      )
      .join(' UNION ALL '),
    { structureId: scope.structureId, teamIds: scope.teamIds ?? [], ...b },
  );
  return sorted(
    (rows as { bucket: string; key: string | null; count: string }[]).map((r) => ({
      bucket: r.bucket,
      key: r.key ?? 'none',
      count: Number(r.count),
    })),
  );
}

type Team = { structure: { id: string }; worker: { id: string }; worker2: { id: string } };

/**
 * The counter tests' teams: X (a's worker) and Y (a's worker and worker 2: a row counts in both
 * teams of its user) in structure a, Z (b's worker) in structure b. Returns their ids by name.
 */
export async function createCounterTeams(k: Knex, a: Team, b: Team) {
  const teams = {} as Record<'x' | 'y' | 'z', string>;
  for (const [name, structureId, members] of [
    ['x', a.structure.id, [a.worker.id]],
    ['y', a.structure.id, [a.worker.id, a.worker2.id]],
    ['z', b.structure.id, [b.worker.id]],
  ] as const) {
    const [{ id }] = await k('teams').insert({ structure_id: structureId, name }, ['id']);
    teams[name] = id;
    await k('team_members').insert(members.map((user_id) => ({ team_id: id, user_id })));
  }
  return teams;
}

/**
 * Every instant one of `edges` (bounds the service computes), or a UTC midnight next to it, falls
 * on at each clock and zone, and a moment either side; then `spread` instants 7.3 days apart from
 * 2026-01-01. Sorted.
 */
export function boundaryInstants(
  nows: string[],
  edges: (b: BacklogBounds) => Date[],
  spread: number,
): number[] {
  const instants = new Set<number>();
  for (const now of nows)
    for (const zone of ZONES)
      for (const edge of edges(boundsAt(new Date(now), zone))) {
        const midnight = Math.ceil(edge.getTime() / DAY) * DAY;
        for (const t of [edge.getTime(), midnight, midnight - DAY])
          for (const d of [-MS, 0, MS]) instants.add(t + d);
      }
  for (let i = 0; i < spread; i++) instants.add(Date.parse('2026-01-01T00:00:00Z') + i * 7.3 * DAY);
  return [...instants].sort((x, y) => x - y);
}

type Scope = Parameters<typeof perRowCounts>[2];

/**
 * The repository's counts of the buckets `keep` selects, compared with the oracle's at each clock,
 * zone and scope. Returns the oracle's rows of each comparison, for the callers' check that
 * enough of them held something.
 */
export async function expectCountsAsOracle(
  k: Knex,
  nows: string[],
  scopes: Scope[],
  keep: (bucket: string) => boolean,
  oracle: (k: Knex, scope: Scope, b: BacklogBounds) => Promise<Row[]>,
): Promise<Row[][]> {
  const repo = createBacklogRepository();
  const compared: Row[][] = [];
  for (const now of nows)
    for (const zone of ZONES) {
      const bounds = boundsAt(new Date(now), zone);
      for (const scope of scopes) {
        const got = sorted(
          countRows(await repo.groups(k, scope, bounds)).filter((r) => keep(r.bucket)),
        );
        const want = await oracle(k, scope, bounds);
        expect({ now, zone, scope, rows: got }).toEqual({ now, zone, scope, rows: want });
        compared.push(want);
      }
    }
  return compared;
}

/** An active file, and its last contact (or creation), as the no-contact buckets read them. */
export const ACTIVE = 'p.closed_at IS NULL AND p.anonymised_at IS NULL';
export const LAST_AT = 'coalesce(p.last_contact_at, p.created_at)';
/** The no-contact buckets' conditions, per person. */
export const NO_CONTACT_WHERE = {
  no_contact_30: `${LAST_AT} < :contact30 AND ${LAST_AT} >= :contact90`,
  no_contact_90: `${LAST_AT} < :contact90`,
};

/** The clocks the no-contact tests count at. */
export const NO_CONTACT_NOWS = [
  '2026-11-25T10:00:00.000Z', // Wednesday, winter time; the 30-day boundary just after the change
  '2026-04-20T21:59:59.999Z', // the last moment of a Paris day, summer time; 90 days back in winter
  '2026-04-20T22:00:00.000Z', // the first moment of the next Paris day
  '2026-08-01T00:00:00.000Z',
];

/**
 * The no-contact counts as the backlog computed them before its counters (by referent and by
 * district) and the referrals' copies of their persons (by partner): person by person.
 */
export const noContactOracle = (k: Knex, scope: Scope, b: BacklogBounds) =>
  perRowCounts(
    k,
    {
      from: 'persons p',
      counted: ACTIVE,
      owner: 'p.referent_id',
      district: { join: '', key: 'p.district_id' },
      partner: {
        join: `JOIN (SELECT DISTINCT person_id, partner_id FROM referrals
                      WHERE structure_id = :structureId AND status IN ${sqlStatusList(OPEN_STATUSES)}) ap
                 ON ap.person_id = p.id`,
        key: 'ap.partner_id',
      },
      buckets: NO_CONTACT_WHERE,
    },
    scope,
    b,
  );

/** Runs `work` in a transaction rolled back at its end: a change the counters must not keep. */
export async function rolledBack(k: Knex, work: (trx: Knex.Transaction) => Promise<unknown>) {
  const trx = await k.transaction();
  try {
    await work(trx);
  } finally {
    await trx.rollback();
  }
}

/**
 * Whether `pending` is still waiting after `ms` (a statement blocked by another's lock). Pass a
 * promise (`builder.then((r) => r)`), not a knex builder: a builder runs its statement again each
 * time it is awaited.
 */
export const waitsFor = (pending: Promise<unknown>, ms = 300) =>
  Promise.race([
    pending.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms)),
  ]);
