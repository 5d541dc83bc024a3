import type { Knex } from 'knex';
import { PERSON_ROLES } from '../../auth/actor';
import { personLabelSql } from '../persons/person-label';
import { REFERRAL_ESCALATE_REQUESTER } from '../referrals/referral-schemas';
import { OPEN_STATUSES, sqlStatusList } from '../referrals/referral-state';
import { REPORT_ESCALATE } from '../reports/report-schemas';
import {
  BACKLOG_BUCKETS,
  NO_KEY,
  type BacklogBucket,
  type BacklogGrouping,
} from './backlog-schemas';

type Db = Knex | Knex.Transaction;

/** The moments the buckets are cut at, computed by the service from the clock in Paris time. */
export interface BacklogBounds {
  now: Date;
  /** Midnight 7 days ago: a follow-up due at or after it (and before now) is 0 to 7 days late. */
  late7: Date;
  /** Midnight 30 days ago: due before it, 31 days late or more. */
  late30: Date;
  /** Midnight of the Monday after today: "due this week" ends there. */
  weekEnd: Date;
  /** Midnight 29 days ago: a last contact before it is 30 days old or more. */
  contact30: Date;
  /** Midnight 89 days ago: a last contact before it is 90 days old or more. */
  contact90: Date;
}

interface BacklogScope {
  structureId: string;
  groupBy: BacklogGrouping;
  /** The teams filtered: their members' work, each item once (absent or empty: no filter). */
  teamIds?: string[];
}

/** Whether a scope is narrowed to teams. */
const filtered = (scope: Pick<BacklogScope, 'teamIds'>) => !!scope.teamIds?.length;

/** The filtered teams' ids, as one array parameter. */
const TEAM_IDS = 'CAST(:teamIds AS uuid[])';

/** One group of the backlog: its key (NO_KEY for rows without one), its name, its counts. */
export interface BacklogGroup {
  /** The group's id (a user, team, district or partner), or "none" for rows without one. */
  key: string;
  label: string | null;
  /**
   * By assignee, whether the user is still active staff (an enabled worker or manager): a leaver
   * still holding work is not. Null for the other groupings and the group without a key.
   */
  active: boolean | null;
  counts: Record<BacklogBucket, number>;
}

interface BacklogFollowUpItem {
  type: 'follow_up';
  id: string;
  personId: string;
  personLabel: string;
  title: string;
  dueAt: Date;
  assigneeId: string;
  assigneeName: string | null;
  version: number;
}
interface BacklogReferralItem {
  type: 'referral';
  id: string;
  personId: string;
  personLabel: string;
  partnerId: string;
  partnerName: string;
  sentAt: Date;
  requesterId: string | null;
  requesterName: string | null;
}
interface BacklogPersonItem {
  type: 'person';
  id: string;
  personId: string;
  personLabel: string;
  /** The last contact logged; null when none ever was. */
  lastContactAt: Date | null;
  /** When the file was created. */
  createdAt: Date;
  /** What the no-contact buckets count from: the last contact, or the creation without one. */
  noContactSince: Date;
  referentId: string | null;
  referentName: string | null;
}
/** A report waiting triage: no person yet, so nothing of one. */
interface BacklogReportItem {
  type: 'report';
  id: string;
  receiptNumber: string;
  receivedAt: Date;
  channel: 'public' | 'partner';
  triageDueAt: Date | null;
}
export type BacklogItem =
  BacklogFollowUpItem | BacklogReferralItem | BacklogPersonItem | BacklogReportItem;

/**
 * Reports waiting triage belong to the structure, not to a worker, team, district or partner:
 * they are counted in the group without a key whatever the grouping (and the team filter).
 */
const WAITING_REPORTS =
  'FROM reports rp WHERE rp.structure_id = :structureId AND rp.triaged_at IS NULL';

const PERSON_LABEL = personLabelSql('p');
/**
 * An active person's last contact, or the file's creation when none was ever logged. The last
 * contact is kept on the person by triggers on contacts (migration 20261208300000), and this very
 * expression is indexed (`persons_active_last_contact`): the items of the no-contact buckets are
 * a range of that index. Their counts come from `backlog_contact_counts` (see NO_CONTACT).
 */
const LAST_AT = 'coalesce(p.last_contact_at, p.created_at)';
const ACTIVE_REFERRAL = sqlStatusList(OPEN_STATUSES);

type Entity = 'follow_up' | 'referral' | 'person';

/** The no-contact buckets' conditions on a file's last contact (or creation), `at`. */
const noContact = (at: string) => ({
  no_contact_30: `${at} < :contact30 AND ${at} >= :contact90`,
  no_contact_90: `${at} < :contact90`,
});

/** What each bucket counts: its entity and the condition on it. */
const BUCKETS: Record<Exclude<BacklogBucket, 'reports'>, { entity: Entity; where: string }> = {
  d0_7: { entity: 'follow_up', where: 'f.due_at < :now AND f.due_at >= :late7' },
  d8_30: { entity: 'follow_up', where: 'f.due_at < :late7 AND f.due_at >= :late30' },
  d31_plus: { entity: 'follow_up', where: 'f.due_at < :late30' },
  week: { entity: 'follow_up', where: 'f.due_at >= :now AND f.due_at < :weekEnd' },
  // Past the response delay: the requester's escalation (planned at the delay's end) is due.
  late_referrals: {
    entity: 'referral',
    where: `EXISTS (SELECT 1 FROM deadlines d WHERE d.subject_type = 'referral' AND d.subject_id = r.id
      AND d.kind = '${REFERRAL_ESCALATE_REQUESTER}' AND d.status <> 'cancelled' AND d.due_at <= :now)`,
  },
  no_contact_30: { entity: 'person', where: noContact(LAST_AT).no_contact_30 },
  no_contact_90: { entity: 'person', where: noContact(LAST_AT).no_contact_90 },
};

/** Where an entity's rows come from: its rows of the structure, the person joined as `p` (for
 * items), its person's id, its user, and the items' order; and conditions of its own for some
 * buckets, where its rows hold what BUCKETS reads elsewhere. */
interface Source {
  table: string;
  persons: string;
  person: string;
  where: string;
  user: string;
  order: string;
  buckets?: Partial<Record<Exclude<BacklogBucket, 'reports'>, string>>;
}

/** The base of each entity: its rows of the structure, the person joined as `p`, and its user. */
const FROM: Record<Entity, Source> = {
  follow_up: {
    table: 'follow_ups f',
    persons: 'JOIN persons p ON p.id = f.person_id',
    person: 'f.person_id',
    where: "f.structure_id = :structureId AND f.status = 'open'",
    user: 'f.assignee_id',
    order: 'f.due_at, f.id',
  },
  referral: {
    table: 'referrals r',
    persons: 'JOIN persons p ON p.id = r.person_id',
    person: 'r.person_id',
    where: "r.structure_id = :structureId AND r.status = 'requested'",
    user: 'r.requester_id',
    order: 'r.created_at, r.id',
  },
  // An active person's last contact, or the file's creation when none was ever logged.
  person: {
    table: 'persons p',
    persons: '',
    person: 'p.id',
    where: 'p.structure_id = :structureId AND p.closed_at IS NULL AND p.anonymised_at IS NULL',
    user: 'p.referent_id',
    order: `${LAST_AT}, p.id`,
  },
};

/**
 * A user's teams of the structure, as `tm`: with a team filter, the filtered teams only (the rows
 * are their members'); without, every team of the user, and none (a NULL team: the "none" group)
 * for a user in no team and for rows without a user, so no open work drops out of the grouping.
 */
const teamJoin = (user: string, teams: boolean) =>
  teams
    ? `JOIN team_members tm ON tm.user_id = ${user}
       JOIN teams t ON t.id = tm.team_id AND t.structure_id = :structureId AND t.id = ANY(${TEAM_IDS})`
    : `LEFT JOIN (team_members tm JOIN teams t ON t.id = tm.team_id AND t.structure_id = :structureId)
         ON tm.user_id = ${user}`;

/** Only the members of the filtered teams (a member of two of them once). */
const inTeam = (user: string) =>
  `${user} IN (SELECT tf.user_id FROM team_members tf WHERE tf.team_id = ANY(${TEAM_IDS}))`;

/**
 * Grouping by partner: the persons with an active referral, once per partner, as a CTE that
 * every statement grouped by partner starts with (at 1 M, read from `referrals_open_by_person`
 * alone). The counts name it in each of their arms, so PostgreSQL computes it once (EXPLAIN at
 * 1 M persons: 35 000 pairs, about 50 ms, had been recomputed in each of six arms); the items
 * name it once, so it is inlined there and their partner's condition reaches the referrals.
 *
 * Each pair carries what the no-contact buckets ask of its person: the copies each referral holds
 * of its person's last contact (or creation), active state and referent, kept by triggers
 * (migration 20261213100000) and equal on all the person's referrals. So those buckets count the
 * pairs alone (PERSON_BY_PARTNER), where they hashed the half-million files without contact for
 * 90 days to meet them (EXPLAIN at 1 M: 258 of the statement's 312 ms).
 */
const ACTIVE_PAIRS = `active_pairs AS (
  SELECT DISTINCT ON (ar.person_id, ar.partner_id) ar.person_id, ar.partner_id,
         ar.person_last_at, ar.person_active, ar.person_referent_id
    FROM referrals ar
   WHERE ar.structure_id = :structureId AND ar.status IN ${ACTIVE_REFERRAL}
   ORDER BY ar.person_id, ar.partner_id)`;

/**
 * The active files of the partner grouping: the pairs whose person is active, by their copies.
 * The same condition gives the counts and the items (which join the person, scoped, to show it),
 * so a number and its items cannot disagree; `backlog-partner-copies.test.ts` proves the copies
 * equal the persons.
 */
const PERSON_BY_PARTNER: Source = {
  table: 'active_pairs ap',
  persons: 'JOIN persons p ON p.id = ap.person_id AND p.structure_id = :structureId',
  person: 'ap.person_id',
  where: 'ap.person_active',
  user: 'ap.person_referent_id',
  order: `${LAST_AT}, p.id`,
  buckets: noContact('ap.person_last_at'),
};

/** The CTEs a grouping's statements need before their own. */
const groupingCtes = (groupBy: BacklogGrouping): string[] =>
  groupBy === 'partner' ? [ACTIVE_PAIRS] : [];

/** Where an entity's rows come from in a grouping: the partner grouping's files are its pairs. */
const sourceOf = (entity: Entity, groupBy: BacklogGrouping): Source =>
  entity === 'person' && groupBy === 'partner' ? PERSON_BY_PARTNER : FROM[entity];

/** How rows of an entity find their group: a join (when needed) and the key expression. */
function grouping(
  entity: Entity,
  groupBy: BacklogGrouping,
  teams: boolean,
): { join: string; key: string } {
  const source = sourceOf(entity, groupBy);
  const user = source.user;
  switch (groupBy) {
    case 'assignee':
      return { join: '', key: user };
    case 'district':
      // A follow-up carries its person's district (kept by triggers, migration 20261211100000;
      // in follow_ups_open_by_structure); a referral's is looked up per row by primary key
      // rather than joined (few are past their delay): the counts stay on the indexes.
      return {
        join: '',
        key: {
          person: 'p.district_id',
          follow_up: 'f.district_id',
          referral: `(SELECT pd.district_id FROM persons pd WHERE pd.id = ${FROM.referral.person})`,
        }[entity],
      };
    case 'team':
      return { join: teamJoin(user, teams), key: 'tm.team_id' };
    case 'partner':
      // A referral belongs to its partner; the rest to the partners the person is referred to
      // (the files are the pairs themselves).
      if (entity === 'referral') return { join: '', key: 'r.partner_id' };
      return {
        join: entity === 'person' ? '' : `JOIN active_pairs ap ON ap.person_id = ${source.person}`,
        key: 'ap.partner_id',
      };
  }
}

/**
 * FROM … WHERE … of one bucket, with its group key. The person is joined only for items (which
 * show who they are about), so the counts read the follow-up and referral indexes alone (by
 * district, a late referral's person is looked up by key, see `grouping`).
 */
function bucketSql(
  bucket: Exclude<BacklogBucket, 'reports'>,
  scope: BacklogScope,
  withPerson = false,
) {
  const { entity } = BUCKETS[bucket];
  const base = sourceOf(entity, scope.groupBy);
  const where = base.buckets?.[bucket] ?? BUCKETS[bucket].where;
  const g = grouping(entity, scope.groupBy, filtered(scope));
  const team = filtered(scope) ? ` AND ${inTeam(base.user)}` : '';
  return {
    entity,
    key: g.key,
    order: base.order,
    sql: `FROM ${base.table} ${withPerson ? base.persons : ''} ${g.join} WHERE ${base.where} AND ${where}${team}`,
  };
}

/** What each entity's items show. */
const ITEM_COLUMNS: Record<Entity, string> = {
  follow_up: `f.id, f.person_id, f.title, f.due_at, f.assignee_id, f.version,
    (SELECT u.name FROM users u WHERE u.id = f.assignee_id) AS assignee_name`,
  referral: `r.id, r.person_id, r.partner_id, r.created_at, r.requester_id,
    (SELECT pa.name FROM partners pa WHERE pa.id = r.partner_id) AS partner_name,
    (SELECT u.name FROM users u WHERE u.id = r.requester_id) AS requester_name`,
  person: `p.id, p.id AS person_id, ${LAST_AT} AS last_at, p.last_contact_at, p.created_at, p.referent_id,
    (SELECT u.name FROM users u WHERE u.id = p.referent_id) AS referent_name`,
};

/**
 * Buckets read from counters kept by triggers (a total and a count per UTC day per group) rather
 * than counted row by row. The buckets are cut at ordered boundaries B1 < B2 < …: the first is
 * the rows before B1 (the total less those since B1), each next one the rows since its previous
 * boundary less those since its own. The rows since a boundary are the day rows from the
 * boundary's next UTC midnight to the next Monday and the week rows from that Monday on
 * (migration 20261210200000: about 20 rows a group rather than a row per day), plus the rows
 * between the boundary and that midnight read from an index (an hour or two for a Paris
 * midnight, up to a day for the clock's instant). So
 * each count is the per-row condition of BUCKETS, exactly, at any instant the calendar gives.
 *
 * Grouping by team sums its members' counts (a row counts in each team of its user, as the join
 * of the per-row count does).
 */
interface Counters {
  /** The CTE's name. */
  name: string;
  /** The counter table, as `cc`, and its condition (the structure bound as :structureId). */
  table: string;
  where: string;
  /** Its group (a user or a district), day and count columns. */
  group: string;
  day: string;
  value: string;
  /** The rows themselves: FROM … WHERE …, their group key and the indexed instant. */
  rows: string;
  rowKey: string;
  rowAt: string;
  /** The buckets, each with its upper boundary (a bound name), oldest first. */
  buckets: { bucket: Exclude<BacklogBucket, 'reports'>; before: Bound }[];
}

function countersSql(c: Counters, scope: BacklogScope): { with: string; parts: string[] } {
  const team = filtered(scope) ? ` AND ${inTeam(`cc.${c.group}`)}` : '';
  const rowTeam = filtered(scope) ? ` AND ${inTeam(c.rowKey)}` : '';
  const counted = `FROM ${c.table} cc WHERE ${c.where}${team}`;
  const days = (b: Bound) => `NOT cc.week AND cc.${c.day} >= :${b}Day AND cc.${c.day} < :${b}Week`;
  const since = (b: Bound) => `(cc.week AND cc.${c.day} >= :${b}Week) OR (${days(b)})`;
  const zeros = (except: number, value: string) =>
    c.buckets.map((_, i) => (i === except ? value : '0')).join(', ');
  const arms = [
    `SELECT cc.${c.group} AS key, cc.${c.value} AS total, ${c.buckets
      .map((_, i) => `0 AS since${i}`)
      .join(', ')} ${counted} AND NOT cc.week AND cc.${c.day} IS NULL`,
    // The rows since each boundary: its day rows up to the next Monday, then whole weeks.
    `SELECT cc.${c.group}, 0, ${c.buckets
      .map((b) => `CASE WHEN ${since(b.before)} THEN cc.${c.value} ELSE 0 END`)
      .join(', ')} ${counted} AND (${c.buckets.map((b) => `(${days(b.before)})`).join(' OR ')}
        OR (cc.week AND cc.${c.day} >= :${c.buckets[0].before}Week))`,
    ...c.buckets.map(
      (b, i) =>
        `SELECT ${c.rowKey}, 0, ${zeros(i, '1')}
          ${c.rows}${rowTeam} AND ${c.rowAt} >= :${b.before} AND ${c.rowAt} < :${b.before}Edge`,
    ),
  ];
  const columns = c.buckets.map(
    (b, i) =>
      `${i === 0 ? 'sum(n.total)' : `sum(n.since${i - 1})`} - sum(n.since${i}) AS ${b.bucket}`,
  );
  const withSql = `${c.name} AS (
    SELECT n.key, ${columns.join(', ')}
      FROM (${arms.join('\n        UNION ALL\n        ')}) n
     GROUP BY n.key)`;
  const parts = c.buckets.map(({ bucket }) =>
    scope.groupBy === 'team'
      ? `SELECT '${bucket}' AS bucket, CAST(tm.team_id AS text) AS key, sum(n.${bucket}) AS count
           FROM ${c.name} n ${teamJoin('n.key', filtered(scope))}
          GROUP BY tm.team_id HAVING sum(n.${bucket}) > 0`
      : `SELECT '${bucket}' AS bucket, CAST(n.key AS text) AS key, n.${bucket} AS count
           FROM ${c.name} n WHERE n.${bucket} > 0`,
  );
  return { with: withSql, parts };
}

/**
 * The no-contact buckets from the counters kept by triggers on persons (migration
 * 20261209100000): per referent or district, the active files in total and per UTC day of their
 * last contact; the partial days from `persons_active_last_contact`. The partner grouping
 * (files with an active referral) counts its pairs (PERSON_BY_PARTNER), and the district grouping
 * of one team (district and referent at once) keeps the per-person count.
 */
function noContactSql(scope: BacklogScope): { with: string; parts: string[] } | null {
  const dimension =
    scope.groupBy === 'assignee' || scope.groupBy === 'team'
      ? 'referent'
      : scope.groupBy === 'district' && !filtered(scope)
        ? 'district'
        : null;
  if (!dimension) return null;
  return countersSql(
    {
      name: 'no_contact',
      table: 'backlog_contact_counts',
      where: `cc.structure_id = :structureId AND cc.dimension = '${dimension}'`,
      group: 'group_id',
      day: 'last_day',
      value: 'persons',
      rows: `FROM ${FROM.person.table} WHERE ${FROM.person.where}`,
      rowKey: dimension === 'referent' ? 'p.referent_id' : 'p.district_id',
      rowAt: LAST_AT,
      buckets: [
        { bucket: 'no_contact_90', before: 'contact90' },
        { bucket: 'no_contact_30', before: 'contact30' },
      ],
    },
    scope,
  );
}

/**
 * The follow-up buckets from the counters kept by triggers on follow_ups (migration
 * 20261209500000): per assignee, the open follow-ups in total and per UTC day of their due date;
 * the partial days from `follow_ups_open_by_structure`. The due-this-week bucket is the rows since
 * now less those since the week's end. Grouping by district keeps the per-row count, on the
 * index alone (the follow-up's copy of its person's district), and so does grouping by partner.
 */
function followUpSql(scope: BacklogScope): { with: string; parts: string[] } | null {
  if (scope.groupBy !== 'assignee' && scope.groupBy !== 'team') return null;
  return countersSql(
    {
      name: 'follow_up',
      table: 'backlog_follow_up_counts',
      where: 'cc.structure_id = :structureId',
      group: 'assignee_id',
      day: 'due_day',
      value: 'follow_ups',
      rows: `FROM ${FROM.follow_up.table} WHERE ${FROM.follow_up.where}`,
      rowKey: 'f.assignee_id',
      rowAt: 'f.due_at',
      buckets: [
        { bucket: 'd31_plus', before: 'late30' },
        { bucket: 'd8_30', before: 'late7' },
        { bucket: 'd0_7', before: 'now' },
        { bucket: 'week', before: 'weekEnd' },
      ],
    },
    scope,
  );
}

/** Where a group key's display name is: a user, team or district of the structure, or a partner. */
const LABELS: Record<BacklogGrouping, { table: string; ofStructure: boolean }> = {
  assignee: { table: 'users', ofStructure: true },
  team: { table: 'teams', ofStructure: true },
  district: { table: 'districts', ofStructure: true },
  partner: { table: 'partners', ofStructure: false },
};

/** The name of the group whose key is `key` (an SQL expression of text), scoped as LABELS says. */
function labelSql(groupBy: BacklogGrouping, key: string): string {
  const { table, ofStructure } = LABELS[groupBy];
  return `SELECT l.name FROM ${table} l WHERE l.id = CAST(${key} AS uuid)${
    ofStructure ? ' AND l.structure_id = :structureId' : ''
  }`;
}

/** The roles of active staff, as an SQL list. */
const STAFF_ROLES = `(${PERSON_ROLES.map((r) => `'${r}'`).join(', ')})`;

/**
 * Whether the group whose key is `key` is a user still active staff (an enabled worker or manager
 * of the structure, as `users.activeStaff` says); NULL for the groupings of teams, districts and
 * partners.
 */
function activeSql(groupBy: BacklogGrouping, key: string): string {
  return groupBy === 'assignee'
    ? `SELECT l.disabled_at IS NULL AND l.role IN ${STAFF_ROLES} FROM users l
        WHERE l.id = CAST(${key} AS uuid) AND l.structure_id = :structureId`
    : 'SELECT CAST(NULL AS boolean)';
}

/** Each bucket's count, a column each, from the count rows (a bucket and a key each, below). */
const PIVOT = BACKLOG_BUCKETS.map(
  (b) => `coalesce(sum(c.count) FILTER (WHERE c.bucket = '${b}'), 0) AS ${b}`,
).join(', ');

/**
 * Every group's counts, one row per group with a column per bucket, and its name, as one
 * statement: the count rows pivoted in PostgreSQL, so that a structure of 400 referents answers
 * 400 rows rather than one per bucket and group, and the names are looked up by key in the same
 * statement rather than sent back as 400 bindings.
 */
function groupsSql(scope: BacklogScope): string {
  const { ctes, parts } = countParts(scope);
  return `WITH ${[
    ...groupingCtes(scope.groupBy),
    ...ctes,
    `counted AS (${parts.join('\nUNION ALL\n')})`,
  ].join(',\n')}
    SELECT c.key, (${labelSql(scope.groupBy, 'c.key')}) AS label,
           (${activeSql(scope.groupBy, 'c.key')}) AS active, ${PIVOT}
      FROM counted c GROUP BY c.key`;
}

/**
 * The whole scope's count in each bucket, one row: the count rows of a grouping where each item
 * counts once (by assignee), summed without a group, a name or a row per group.
 */
function totalsSql(scope: BacklogScope): string {
  const { ctes, parts } = countParts(scope);
  return `WITH ${[...ctes, `counted AS (${parts.join('\nUNION ALL\n')})`].join(',\n')}
    SELECT ${PIVOT} FROM counted c`;
}

/** Every bucket's count per group key (and the waiting reports): a bucket, a key, a count a row. */
function countParts(scope: BacklogScope): { ctes: string[]; parts: string[] } {
  const counters = [noContactSql(scope), followUpSql(scope)];
  const countedEntities = new Set<Entity>(
    [counters[0] && 'person', counters[1] && 'follow_up'].filter((e): e is Entity => !!e),
  );
  const parts = COUNTED.filter((bucket) => !countedEntities.has(BUCKETS[bucket].entity)).map(
    (bucket) => {
      const q = bucketSql(bucket, scope);
      return `SELECT '${bucket}' AS bucket, CAST(${q.key} AS text) AS key, count(*) AS count ${q.sql} GROUP BY ${q.key}`;
    },
  );
  const ctes: string[] = [];
  for (const c of counters)
    if (c) {
      ctes.push(c.with);
      parts.push(...c.parts);
    }
  parts.push(
    `SELECT 'reports' AS bucket, NULL AS key, count(*) AS count ${WAITING_REPORTS} HAVING count(*) > 0`,
  );
  return { ctes, parts };
}

/** One group's items of a bucket, paged, and their total; the key itself is bound (:key). */
function itemsSql(
  bucket: Exclude<BacklogBucket, 'reports'>,
  scope: BacklogScope,
  noKey: boolean,
): { entity: Entity; items: string; count: string } {
  const q = bucketSql(bucket, scope, true);
  const counted = bucketSql(bucket, scope);
  const keyWhere = noKey ? `${q.key} IS NULL` : `${q.key} = :key`;
  const ctes = groupingCtes(scope.groupBy);
  const withCtes = ctes.length ? `WITH ${ctes.join(',\n')} ` : '';
  return {
    entity: q.entity,
    items: `${withCtes}SELECT ${ITEM_COLUMNS[q.entity]}, ${PERSON_LABEL} AS person_label ${q.sql} AND ${keyWhere}
      ORDER BY ${q.order} LIMIT :limit OFFSET :offset`,
    count: `${withCtes}SELECT count(*) AS count ${counted.sql} AND ${keyWhere}`,
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The first UTC midnight at or after `at`: where the counters' whole days start. */
const utcMidnightFrom = (at: Date) => new Date(Math.ceil(at.getTime() / DAY_MS) * DAY_MS);
const utcDay = (midnight: Date) => midnight.toISOString().slice(0, 10);

/** The boundaries the counters cut at. */
type Bound = keyof BacklogBounds;
const BOUNDS: Bound[] = ['now', 'late7', 'late30', 'weekEnd', 'contact30', 'contact90'];

/** The first Monday at or after a UTC midnight, as a day: where the counters' whole weeks start. */
const mondayFrom = (midnight: Date) =>
  utcDay(new Date(midnight.getTime() + ((8 - midnight.getUTCDay()) % 7) * DAY_MS));

/**
 * Each boundary, its next UTC midnight (`…Edge`), that midnight's day (`…Day`) and the first
 * Monday from it (`…Week`).
 */
const bindings = (scope: BacklogScope, b: BacklogBounds) => {
  const params: Record<string, string | string[] | Date | null> = {
    structureId: scope.structureId,
    teamIds: scope.teamIds ?? [],
  };
  for (const bound of BOUNDS) {
    const edge = utcMidnightFrom(b[bound]);
    params[bound] = b[bound];
    params[`${bound}Edge`] = edge;
    params[`${bound}Day`] = utcDay(edge);
    params[`${bound}Week`] = mondayFrom(edge);
  }
  return params;
};

const COUNTED = BACKLOG_BUCKETS.filter(
  (b): b is Exclude<BacklogBucket, 'reports'> => b !== 'reports',
);

/**
 * A row's counts as one object literal: built generically (Object.fromEntries over the buckets)
 * they cost 0.5 ms a summary of 400 groups, fifty times the literal.
 */
const countsOf = (r: Record<string, string | null>): Record<BacklogBucket, number> => ({
  d0_7: Number(r.d0_7),
  d8_30: Number(r.d8_30),
  d31_plus: Number(r.d31_plus),
  week: Number(r.week),
  late_referrals: Number(r.late_referrals),
  no_contact_30: Number(r.no_contact_30),
  no_contact_90: Number(r.no_contact_90),
  reports: Number(r.reports),
});

export function createBacklogRepository() {
  return {
    /** Every group with a count, its name and its count in each bucket, in one statement. */
    async groups(db: Db, scope: BacklogScope, bounds: BacklogBounds): Promise<BacklogGroup[]> {
      const { rows } = await db.raw(groupsSql(scope), bindings(scope, bounds));
      return (rows as (Record<string, string | null> & { active: boolean | null })[]).map((r) => ({
        key: r.key ?? NO_KEY,
        label: r.label,
        active: r.active,
        counts: countsOf(r),
      }));
    },

    /**
     * The scope's count in each bucket, each item once (by team an item counts in each team of
     * its user, and by partner only the work of referred files shows, so groups do not add up).
     */
    async totals(
      db: Db,
      scope: Omit<BacklogScope, 'groupBy'>,
      bounds: BacklogBounds,
    ): Promise<Record<BacklogBucket, number>> {
      const full = { ...scope, groupBy: 'assignee' as const };
      const { rows } = await db.raw(totalsSql(full), bindings(full, bounds));
      return countsOf(rows[0]);
    },

    /** The items behind one number: the same condition, one group, paged. */
    async items(
      db: Db,
      scope: BacklogScope,
      bounds: BacklogBounds,
      bucket: Exclude<BacklogBucket, 'reports'>,
      key: string,
      page: { page: number; pageSize: number },
    ): Promise<{ items: BacklogItem[]; total: number }> {
      const statements = itemsSql(bucket, scope, key === NO_KEY);
      const params = {
        ...bindings(scope, bounds),
        key,
        limit: page.pageSize,
        offset: (page.page - 1) * page.pageSize,
      };
      const [{ rows }, { rows: countRows }] = await Promise.all([
        db.raw(statements.items, params),
        db.raw(statements.count, params),
      ]);
      return {
        items: (rows as Record<string, unknown>[]).map((r) => toItem(statements.entity, r)),
        total: Number(countRows[0].count),
      };
    },

    /** The reports waiting triage, oldest first, paged (the items of the `reports` bucket). */
    async waitingReports(
      db: Db,
      structureId: string,
      page: { page: number; pageSize: number },
    ): Promise<{ items: BacklogItem[]; total: number }> {
      const params = {
        structureId,
        limit: page.pageSize,
        offset: (page.page - 1) * page.pageSize,
      };
      const [{ rows }, { rows: countRows }] = await Promise.all([
        db.raw(
          `SELECT rp.id, rp.receipt_number, rp.created_at, rp.channel,
             (SELECT max(d.due_at) FROM deadlines d WHERE d.subject_type = 'report'
               AND d.subject_id = rp.id AND d.kind = '${REPORT_ESCALATE}' AND d.status <> 'cancelled') AS triage_due_at
           ${WAITING_REPORTS} ORDER BY rp.created_at, rp.id LIMIT :limit OFFSET :offset`,
          params,
        ),
        db.raw(`SELECT count(*) AS count ${WAITING_REPORTS}`, params),
      ]);
      return {
        items: (
          rows as {
            id: string;
            receipt_number: string;
            created_at: Date;
            channel: 'public' | 'partner';
            triage_due_at: Date | null;
          }[]
        ).map((r) => ({
          type: 'report' as const,
          id: r.id,
          receiptNumber: r.receipt_number,
          receivedAt: new Date(r.created_at),
          channel: r.channel,
          triageDueAt: r.triage_due_at ? new Date(r.triage_due_at) : null,
        })),
        total: Number(countRows[0].count),
      };
    },

    /**
     * The display name of one group key, scoped as LABELS says (the summary's statement looks its
     * groups' names up itself).
     */
    async label(
      db: Db,
      structureId: string,
      groupBy: BacklogGrouping,
      key: string,
    ): Promise<string | null> {
      const { rows } = await db.raw(`SELECT (${labelSql(groupBy, ':key')}) AS name`, {
        key,
        structureId,
      });
      return (rows[0]?.name as string | null) ?? null;
    },

    /** Which of these ids are teams of the structure. */
    async teamsOf(db: Db, structureId: string, teamIds: string[]): Promise<string[]> {
      const rows: { id: string }[] = await db('teams')
        .where({ structure_id: structureId })
        .whereIn('id', teamIds)
        .select('id');
      return rows.map((r) => r.id);
    },
  };
}

function toItem(entity: Entity, r: Record<string, unknown>): BacklogItem {
  const person = {
    personId: r.person_id as string,
    personLabel: (r.person_label as string) || '—',
  };
  if (entity === 'follow_up')
    return {
      type: 'follow_up',
      id: r.id as string,
      ...person,
      title: r.title as string,
      dueAt: r.due_at as Date,
      assigneeId: r.assignee_id as string,
      assigneeName: (r.assignee_name as string | null) ?? null,
      version: r.version as number,
    };
  if (entity === 'referral')
    return {
      type: 'referral',
      id: r.id as string,
      ...person,
      partnerId: r.partner_id as string,
      partnerName: r.partner_name as string,
      sentAt: r.created_at as Date,
      requesterId: (r.requester_id as string | null) ?? null,
      requesterName: (r.requester_name as string | null) ?? null,
    };
  return {
    type: 'person',
    id: r.id as string,
    ...person,
    lastContactAt: (r.last_contact_at as Date | null) ?? null,
    createdAt: r.created_at as Date,
    noContactSince: r.last_at as Date,
    referentId: (r.referent_id as string | null) ?? null,
    referentName: (r.referent_name as string | null) ?? null,
  };
}

export type BacklogRepository = ReturnType<typeof createBacklogRepository>;
