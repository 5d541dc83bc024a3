import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { ValidationError } from '../../lib/errors';
import { instantOf, wallClockOf } from '../../lib/wall-clock';
import { auditTrail, type RequestContext } from '../audit/audit-trail';
import { PERSON_SOURCES, SOURCE_LABELS } from '../persons/person-schemas';
import type { SettingsService } from '../settings/settings-service';
import { observationCsv } from './observation-csv';
import type { ObservationRepository } from './observation-repository';
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
}

export interface ObservationServiceDeps {
  knex: Knex;
  clock: Clock;
  settings: Pick<SettingsService, 'forStructure' | 'calendarFor'>;
  observations: ObservationRepository;
}

const iso = (y: number, m: number, d: number) =>
  `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
const dayOf = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);
const parisMidnight = (day: string) => {
  const [year, month, d] = day.split('-').map(Number);
  return instantOf({ year, month, day: d, hour: 0, minute: 0 })!;
};

/**
 * Aggregated, small-count-suppressed indicators of the structure's outreach for a period
 * (spec §4): what observers and managers see, on the dashboard, in the API and in the CSV.
 */
export function createObservationService({
  knex,
  clock,
  settings,
  observations,
}: ObservationServiceDeps) {
  /**
   * The period asked, or the default: the twelve months up to today (a whole year of data
   * whatever the day, where "this year" would be nearly empty in January).
   */
  function period(q: Pick<ObservationQuery, 'from' | 'to'>): { from: string; to: string } {
    const now = wallClockOf(clock.now());
    const today = iso(now.year, now.month, now.day);
    const to = q.to ?? (q.from && q.from > today ? q.from : today);
    if (q.from) return { from: q.from, to };
    // The day after the same date a year before: 2025-12-06 to 2026-12-05 is twelve months.
    const from = DateTime.fromISO(to, { zone: 'utc' }).minus({ years: 1 }).plus({ days: 1 });
    return { from: from.toISODate()!, to };
  }

  async function compute(actor: Actor, q: ObservationQuery): Promise<Observation> {
    const { from, to } = period(q);
    // The query checks the span when both days are given; a default `to` is checked here.
    if (dayNumber(to) - dayNumber(from) >= MAX_PERIOD_DAYS)
      throw new ValidationError(`Invalid query parameter: from: ${SPAN_MESSAGE}`, [
        { field: 'from', message: SPAN_MESSAGE },
      ]);
    const structure = await settings.forStructure(knex, actor.structureId);
    const calendar = settings.calendarFor(structure);
    const now = wallClockOf(clock.now());
    const today = iso(now.year, now.month, now.day);
    const lastDay = to > today ? to : today;
    const businessDays: string[] = [];
    for (let n = dayNumber(from); n <= dayNumber(lastDay); n++) {
      const day = dayOf(n);
      const [year, month, d] = day.split('-').map(Number);
      if (calendar.isBusinessDay(instantOf({ year, month, day: d, hour: 12, minute: 0 })!))
        businessDays.push(day);
    }
    const nextDay = dayOf(dayNumber(to) + 1);
    const [data, dims] = await Promise.all([
      observations.aggregates(knex, {
        structureId: actor.structureId,
        start: parisMidnight(from),
        end: parisMidnight(nextDay),
        businessDays,
        firstDay: from,
        lastDay,
      }),
      observations.dimensions(knex, actor.structureId),
    ]);
    // The rights' rows are counted by id and shown by code.
    const codeOf = new Map(dims.rights.map((r) => [r.id, r.key]));
    data.groups.right = new Map(
      [...data.groups.right].map(([id, agg]) => [codeOf.get(id) ?? id, agg] as const),
    );

    const none: RowLabel = { key: NO_KEY, label: NO_KEY_LABEL };
    const rows: Record<ObservationGrouping, RowLabel[]> = {
      district: [...dims.districts, none],
      right: dims.rights.map(({ key, label }) => ({ key, label })),
      source: PERSON_SOURCES.map((s) => ({ key: s, label: SOURCE_LABELS[s] })),
      team: [...dims.teams, { key: SEVERAL_TEAMS_KEY, label: SEVERAL_TEAMS_LABEL }, none],
    };
    // A row counted but not listed (a team removed meanwhile) would be recomputable from the
    // totals: every counted key gets its row.
    for (const g of OBSERVATION_GROUPINGS) rows[g] = withCounted(rows[g], data.groups[g]);
    const partners = withCounted(dims.partners, data.partners);

    const published = publishObservation(data, { rows, partners }, structure.smallCountThreshold);
    const by = q.by ?? null;
    return {
      from,
      to,
      by,
      threshold: published.threshold,
      totals: published.totals,
      rows: by ? published.groups[by] : [],
      partners: published.partners,
    };
  }

  return {
    /** Managers and observers of the structure: suppressed aggregates, nothing about a person. */
    get: compute,

    /** The same answer as CSV for spreadsheets; every export is written to the audit trail. */
    async csv(
      actor: Actor,
      q: ObservationQuery,
      ctx: RequestContext,
    ): Promise<{ filename: string; body: string }> {
      const observation = await compute(actor, q);
      await auditTrail.record(knex, {
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
