import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { ValidationError } from '../../lib/errors';
import { dayStart, instantOf, parisDay } from '../../lib/wall-clock';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import { PERSON_SOURCES, SOURCE_LABELS } from '../persons/person-schemas';
import type { SettingsService } from '../settings/settings-service';
import { observationCsv } from './observation-csv';
import type { Deadline, StructureRuns } from '../deadlines/outbox';
import type { DeadlineRelay } from '../deadlines/deadline-relay';
import {
  nextFullHour,
  OBSERVATION_KEEP_UNREAD_MS,
  OBSERVATION_MAX_AGE_MS,
  OBSERVATION_READ_MARK_MS,
  OBSERVATION_REFRESH,
  OBSERVATION_REFRESH_MAX_PERIODS,
} from './observation-kinds';
import type { ObservationRepository, SnapshotKey } from './observation-repository';
import {
  dayNumber,
  MAX_PERIOD_DAYS,
  NO_KEY,
  SPAN_MESSAGE,
  OBSERVATION_GROUPINGS,
  SEVERAL_TEAMS_KEY,
  type ObservationGrouping,
  type ObservationQuery,
} from './observation-schemas';
import {
  publishObservation,
  type ObservationData,
  type MainValues,
  type PartnerValues,
  type RowLabel,
} from './observation-table';

export const NO_KEY_LABEL = 'Non renseigné';
const SEVERAL_TEAMS_LABEL = 'Plusieurs équipes';
const UNKNOWN_LABEL = 'Inconnu';

/** One answer of GET /api/observation (the JSON shape of spec §4). */
export interface Observation {
  from: string;
  to: string;
  by: ObservationGrouping | null;
  threshold: number;
  totals: MainValues;
  rows: (RowLabel & MainValues)[];
  partners: { totals: PartnerValues; rows: (RowLabel & PartnerValues)[] };
  /** When the counts were computed (ISO 8601): the data as it stood then. */
  computedAt: string;
}

export interface ObservationServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  clock: Clock;
  settings: Pick<SettingsService, 'forStructure' | 'rulesOf'>;
  observations: ObservationRepository;
  structureRuns: StructureRuns;
  relay: Pick<DeadlineRelay, 'enqueue'>;
}

/** A refresh's statements may take this long (in the background, at a million persons). */
const REFRESH_STATEMENT_TIMEOUT_MS = 10 * 60_000;

/**
 * How long a read waits to store the answer it computed: another read storing the same period
 * holds its row a moment; a refresh holds it until its deadline's transaction commits, and the
 * read then serves its answer without storing it.
 */
const SNAPSHOT_LOCK_WAIT_MS = 200;

/** What a refresh did: how many periods it computed again. */
export interface RefreshOutcome {
  periods: number;
}

const dayOf = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);

/**
 * Aggregated, small-count-suppressed indicators of the structure's outreach for a period
 * (spec §4): what observers and managers see, on the dashboard, in the API and in the CSV.
 */
export function createObservationService({
  knex,
  clock,
  settings,
  observations,
  audit,
  structureRuns,
  relay,
}: ObservationServiceDeps) {
  /**
   * The period asked, or the default: the twelve months up to today (a whole year of data
   * whatever the day, where "this year" would be nearly empty in January).
   */
  function period(
    q: Pick<ObservationQuery, 'from' | 'to'>,
    at: Date = clock.now(),
  ): { from: string; to: string } {
    const today = parisDay(at);
    const to = q.to ?? (q.from && q.from > today ? q.from : today);
    if (q.from) return { from: q.from, to };
    // The day after the same date a year before: 2025-12-06 to 2026-12-05 is twelve months.
    const from = DateTime.fromISO(to, { zone: 'utc' }).minus({ years: 1 }).plus({ days: 1 });
    return { from: from.toISODate()!, to };
  }

  function checkedPeriod(q: ObservationQuery): { from: string; to: string } {
    const { from, to } = period(q);
    // The query checks the span when both days are given; a default `to` is checked here.
    if (dayNumber(to) - dayNumber(from) >= MAX_PERIOD_DAYS)
      throw new ValidationError(`Invalid query parameter: from: ${SPAN_MESSAGE}`, [
        { field: 'from', message: SPAN_MESSAGE },
      ]);
    return { from, to };
  }

  /** The counts of a period as the data stands at `at`: the three aggregate statements. */
  async function aggregate(
    db: Knex | Knex.Transaction,
    key: SnapshotKey,
    at: Date,
  ): Promise<ObservationData> {
    const { firstDay: from, lastDay: to } = key;
    const { calendar } = await settings.rulesOf(db, key.structureId);
    const today = parisDay(at);
    const lastDay = to > today ? to : today;
    const businessDays: string[] = [];
    for (let n = dayNumber(from); n <= dayNumber(lastDay); n++) {
      const day = dayOf(n);
      const [year, month, d] = day.split('-').map(Number);
      if (calendar.isBusinessDay(instantOf({ year, month, day: d, hour: 12, minute: 0 })!))
        businessDays.push(day);
    }
    return observations.aggregates(db, {
      structureId: key.structureId,
      start: dayStart(from),
      end: dayStart(to, 1),
      businessDays,
      firstDay: from,
      lastDay,
    });
  }

  /**
   * The counts of a period: its snapshot while it is recent enough (kept so by the hourly
   * refresh), else computed now and stored for the next reads.
   */
  async function counts(key: SnapshotKey): Promise<{ data: ObservationData; computedAt: Date }> {
    const now = clock.now();
    const snapshot = await observations.snapshot(knex, key);
    if (snapshot && now.getTime() - snapshot.computedAt.getTime() <= OBSERVATION_MAX_AGE_MS) {
      await observations.markRead(knex, key, now, OBSERVATION_READ_MARK_MS);
      return snapshot;
    }
    const data = await aggregate(knex, key, now);
    await observations.saveSnapshotUnlessBusy(
      knex,
      key,
      { data, computedAt: now, readAt: now },
      SNAPSHOT_LOCK_WAIT_MS,
    );
    return { data, computedAt: now };
  }

  /** The published answer: labels, the threshold in force and suppression, on the counts given. */
  async function publish(
    structureId: string,
    q: ObservationQuery,
    { from, to }: { from: string; to: string },
    { data, computedAt }: { data: ObservationData; computedAt: Date },
  ): Promise<Observation> {
    const [structure, dims] = await Promise.all([
      settings.forStructure(knex, structureId),
      observations.dimensions(knex, structureId),
    ]);
    // The rights' rows are counted by id and shown by code.
    const codeOf = new Map(dims.rights.map((r) => [r.id, r.key]));
    const groups = {
      ...data.groups,
      right: new Map(
        [...data.groups.right].map(([id, agg]) => [codeOf.get(id) ?? id, agg] as const),
      ),
    };

    const none: RowLabel = { key: NO_KEY, label: NO_KEY_LABEL };
    const rows: Record<ObservationGrouping, RowLabel[]> = {
      district: [...dims.districts, none],
      right: dims.rights.map(({ key, label }) => ({ key, label })),
      source: PERSON_SOURCES.map((s) => ({ key: s, label: SOURCE_LABELS[s] })),
      team: [...dims.teams, { key: SEVERAL_TEAMS_KEY, label: SEVERAL_TEAMS_LABEL }, none],
    };
    // A row counted but not listed (a team removed meanwhile) would be recomputable from the
    // totals: every counted key gets its row.
    for (const g of OBSERVATION_GROUPINGS) rows[g] = withCounted(rows[g], groups[g]);
    const partners = withCounted(dims.partners, data.partners);

    const published = publishObservation(
      { ...data, groups },
      { rows, partners },
      structure.smallCountThreshold,
    );
    const by = q.by ?? null;
    return {
      from,
      to,
      by,
      threshold: published.threshold,
      totals: published.totals,
      rows: by ? published.groups[by] : [],
      partners: published.partners,
      computedAt: computedAt.toISOString(),
    };
  }

  async function compute(actor: Actor, q: ObservationQuery): Promise<Observation> {
    const p = checkedPeriod(q);
    const key = { structureId: actor.structureId, firstDay: p.from, lastDay: p.to };
    return publish(actor.structureId, q, p, await counts(key));
  }

  /**
   * Computes again the structure's default period and the periods read lately (the most
   * recently read first), and deletes the snapshots nobody read for a week; how many periods.
   */
  async function refreshStructure(
    trx: Knex.Transaction,
    structureId: string,
    now: Date,
  ): Promise<number> {
    await observations.allowLongStatements(trx, REFRESH_STATEMENT_TIMEOUT_MS);
    const keep = new Date(now.getTime() - OBSERVATION_KEEP_UNREAD_MS);
    const byDefault = period({}, now);
    const periods = [
      { firstDay: byDefault.from, lastDay: byDefault.to },
      ...(await observations.periodsRead(trx, structureId, keep, OBSERVATION_REFRESH_MAX_PERIODS)),
    ].filter(
      (p, i, all) =>
        all.findIndex((o) => o.firstDay === p.firstDay && o.lastDay === p.lastDay) === i,
    );
    // In the transaction: its one connection runs the statements one after the other. Every
    // period is computed before any is written, so the rows stay locked from their write to the
    // commit only (milliseconds), not for the minutes the other periods take.
    const computed: { key: SnapshotKey; data: ObservationData }[] = [];
    for (const p of periods) {
      const key = { structureId, ...p };
      computed.push({ key, data: await aggregate(trx, key, now) });
    }
    for (const { key, data } of computed)
      await observations.saveSnapshot(trx, key, { data, computedAt: now });
    await observations.deleteStale(trx, structureId, keep);
    return periods.length;
  }

  return {
    /**
     * Managers and observers of the structure: suppressed aggregates, nothing about a person,
     * from the period's snapshot when it is recent (`computedAt` says when it was computed).
     */
    /**
     * The answer for a period and a grouping; every read is written to the audit trail with
     * them, as exports are: answers of overlapping periods can be subtracted (docs/security.md,
     * requirement 9), so who asked for which periods is kept.
     */
    async get(actor: Actor, q: ObservationQuery, ctx: RequestContext): Promise<Observation> {
      const observation = await compute(actor, q);
      await audit.record(
        knex,
        {
          actor,
          structureId: actor.structureId,
          action: 'observation.read',
          subjectType: 'export',
          ip: ctx.ip,
          details: { from: observation.from, to: observation.to, by: observation.by },
        },
        ctx,
      );
      return observation;
    },

    /** The same answer computed now from the data, never stored: what a snapshot must equal. */
    async live(actor: Actor, q: ObservationQuery): Promise<Observation> {
      const p = checkedPeriod(q);
      const now = clock.now();
      const key = { structureId: actor.structureId, firstDay: p.from, lastDay: p.to };
      return publish(actor.structureId, q, p, {
        data: await aggregate(knex, key, now),
        computedAt: now,
      });
    },

    refreshStructure,

    /** Plans the next refresh of every structure that has none pending; how many. */
    async ensurePlanned(): Promise<number> {
      const ids: string[] = [];
      for (const structureId of await structureRuns.structuresWithout(knex, OBSERVATION_REFRESH)) {
        const id = await structureRuns.planOnce(
          knex,
          OBSERVATION_REFRESH,
          structureId,
          nextFullHour(clock.now()),
        );
        if (id) ids.push(id);
      }
      await relay.enqueue(ids);
      return ids.length;
    },

    /**
     * 'observation.refresh', in its deadline's transaction: the next hour planned first, then
     * the structure's snapshots computed again.
     */
    async runRefresh(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<RefreshOutcome> {
      const { structureId, dueAt } = deadline;
      await structureRuns.planOnce(
        trx,
        OBSERVATION_REFRESH,
        structureId,
        nextFullHour(now > dueAt ? now : dueAt),
      );
      return { periods: await refreshStructure(trx, structureId, now) };
    },

    /** The same answer as CSV for spreadsheets; every export is written to the audit trail. */
    async csv(
      actor: Actor,
      q: ObservationQuery,
      ctx: RequestContext,
    ): Promise<{ filename: string; body: string }> {
      const observation = await compute(actor, q);
      await audit.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'observation.export',
        subjectType: 'export',
        ip: ctx.ip,
        details: { format: 'csv', from: observation.from, to: observation.to, by: observation.by },
      });
      return {
        filename: `observation-${observation.by ?? 'totaux'}-${observation.from}-${observation.to}.csv`,
        body: observationCsv(observation),
      };
    },
  };
}

function withCounted<T>(rows: RowLabel[], counted: Map<string, T>): RowLabel[] {
  const listed = new Set(rows.map((r) => r.key));
  const missing = [...counted.keys()]
    .filter((k) => !listed.has(k))
    .map((key) => ({ key, label: UNKNOWN_LABEL }));
  return [...rows, ...missing];
}

export type ObservationService = ReturnType<typeof createObservationService>;
