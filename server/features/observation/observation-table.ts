import {
  MAIN_COLUMNS,
  OBSERVATION_GROUPINGS,
  PARTNER_COLUMNS,
  PARTNER_PARTS,
  REASON_COLUMNS,
  RIGHT_COLUMNS,
  type MainColumn,
  type ObservationGrouping,
  type PartnerColumn,
} from './observation-schemas';
import { suppress, type Cell, type Relation } from './suppression';

/** What the repository counts for one row (or the totals) of the main table. */
export interface MainAggregate {
  counts: Record<Exclude<MainColumn, 'notClaimed'>, number>;
  /** Median days to the first successful contact over the `reached` people, or null. */
  medianDays: number | null;
  /** Monthly amounts of the rights obtained, in cents, and the people they belong to. */
  amountCents: number;
  amountPersons: number;
}

export interface PartnerAggregate {
  counts: Record<PartnerColumn, number>;
  medianResponseDays: number | null;
  /** People behind the median: those whose referral got an answer. */
  responsePersons: number;
}

/** Every count of a period, for every grouping at once (suppression looks at all of them). */
export interface ObservationData {
  totals: MainAggregate;
  groups: Record<ObservationGrouping, Map<string, MainAggregate>>;
  partnerTotals: PartnerAggregate;
  partners: Map<string, PartnerAggregate>;
}

export interface RowLabel {
  key: string;
  label: string;
  qpv?: boolean;
}

/** The rows each grouping always shows, whatever the data (an absent row would tell a zero). */
export interface ObservationDimensions {
  rows: Record<ObservationGrouping, RowLabel[]>;
  partners: RowLabel[];
}

/** A count as published: the number, or the threshold's marker. */
export type Published = number | string;

export type MainValues = Record<MainColumn, Published> & {
  medianDaysToFirstContact: number | null;
  yearlyAmountObtained: number | null;
};
export type PartnerValues = Record<PartnerColumn, Published> & {
  acceptanceRate: number | null;
  medianResponseBusinessDays: number | null;
};

export interface PublishedObservation {
  threshold: number;
  totals: MainValues;
  groups: Record<ObservationGrouping, (RowLabel & MainValues)[]>;
  partners: { totals: PartnerValues; rows: (RowLabel & PartnerValues)[] };
}

/** Groupings that put each person, hence each of their rights, in exactly one row. */
const PARTITIONS_PEOPLE: Readonly<Record<ObservationGrouping, boolean>> = {
  district: true,
  source: true,
  team: true,
  right: false,
};

export const suppressedMark = (threshold: number) => `< ${threshold}`;

/** A row nothing was counted in. */
export const emptyMain = (): MainAggregate => ({
  counts: Object.fromEntries(
    MAIN_COLUMNS.filter((c) => c !== 'notClaimed').map((c) => [c, 0]),
  ) as MainAggregate['counts'],
  medianDays: null,
  amountCents: 0,
  amountPersons: 0,
});
export const emptyPartner = (): PartnerAggregate => ({
  counts: Object.fromEntries(PARTNER_COLUMNS.map((c) => [c, 0])) as PartnerAggregate['counts'],
  medianResponseDays: null,
  responsePersons: 0,
});

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The published observation: every grouping's rows, the totals and the partners, with the
 * small counts and everything they could be recomputed from suppressed. All groupings are
 * suppressed together, so the totals read the same whichever grouping is asked and no two
 * answers of one period together reveal a suppressed value.
 */
export function publishObservation(
  data: ObservationData,
  dims: ObservationDimensions,
  threshold: number,
): PublishedObservation {
  const cells: Cell[] = [];
  const relations: Relation[] = [];
  const add = (value: number, primary: boolean, more: Pick<Cell, 'people' | 'standsOn'> = {}) =>
    cells.push({ value, primary, ...more }) - 1;

  /** Cell indexes of one main row: counts, then the amount. */
  type MainCells = Record<MainColumn, number> & { amount: number };
  const mainCells = (a: MainAggregate): MainCells => {
    const idx = {} as MainCells;
    for (const c of MAIN_COLUMNS) {
      // Not claimed is, by definition, the sum of its reasons: the relation below always holds.
      const v =
        c === 'notClaimed' ? REASON_COLUMNS.reduce((s, r) => s + a.counts[r], 0) : a.counts[c];
      idx[c] = add(v, v < threshold);
    }
    idx.amount = add(a.amountCents, a.amountPersons < threshold, {
      people: a.amountPersons,
      standsOn: idx.obtained,
    });
    relations.push({ whole: idx.notClaimed, parts: REASON_COLUMNS.map((r) => idx[r]) });
    return idx;
  };
  const partnerCells = (a: PartnerAggregate): Record<PartnerColumn, number> => {
    const idx = {} as Record<PartnerColumn, number>;
    for (const c of PARTNER_COLUMNS) idx[c] = add(a.counts[c], a.counts[c] < threshold);
    relations.push({ whole: idx.sent, parts: PARTNER_PARTS.map((p) => idx[p]) });
    return idx;
  };

  const totals = mainCells(data.totals);
  const groups = {} as Record<
    ObservationGrouping,
    { row: RowLabel; agg: MainAggregate; idx: MainCells }[]
  >;
  for (const g of OBSERVATION_GROUPINGS) {
    groups[g] = dims.rows[g].map((row) => {
      const agg = data.groups[g].get(row.key) ?? emptyMain();
      return { row, agg, idx: mainCells(agg) };
    });
    const columns = PARTITIONS_PEOPLE[g] ? MAIN_COLUMNS : RIGHT_COLUMNS;
    for (const c of [...columns, 'amount' as const])
      relations.push({ whole: totals[c], parts: groups[g].map((r) => r.idx[c]) });
  }
  const partnerTotals = partnerCells(data.partnerTotals);
  const partnerRows = dims.partners.map((row) => {
    const agg = data.partners.get(row.key) ?? emptyPartner();
    return { row, agg, idx: partnerCells(agg) };
  });
  for (const c of PARTNER_COLUMNS)
    relations.push({ whole: partnerTotals[c], parts: partnerRows.map((r) => r.idx[c]) });

  const hidden = suppress(cells, relations, threshold);
  const mark = suppressedMark(threshold);
  const shown = (i: number): Published => (hidden[i] ? mark : cells[i].value);

  const mainValues = (a: MainAggregate, idx: MainCells): MainValues => {
    const out = {} as MainValues;
    for (const c of MAIN_COLUMNS) out[c] = shown(idx[c]);
    // Only beside its count shown: beside a "< 5", it would tell which hidden counts are large.
    out.medianDaysToFirstContact =
      a.medianDays !== null && !hidden[idx.reached] ? round1(a.medianDays) : null;
    out.yearlyAmountObtained = hidden[idx.amount] ? null : Math.round((a.amountCents * 12) / 100);
    return out;
  };
  const partnerValues = (a: PartnerAggregate, idx: Record<PartnerColumn, number>) => {
    const out = {} as PartnerValues;
    for (const c of PARTNER_COLUMNS) out[c] = shown(idx[c]);
    const { accepted, declined } = a.counts;
    // The rate and the median stand on the answers: beside a hidden count, the rate would give
    // it away from the other, and the median would tell it was large.
    const answersShown = !hidden[idx.accepted] && !hidden[idx.declined];
    out.acceptanceRate =
      answersShown && accepted + declined > 0
        ? Math.round((accepted / (accepted + declined)) * 100) / 100
        : null;
    out.medianResponseBusinessDays =
      answersShown && a.medianResponseDays !== null && a.responsePersons >= threshold
        ? round1(a.medianResponseDays)
        : null;
    return out;
  };

  return {
    threshold,
    totals: mainValues(data.totals, totals),
    groups: Object.fromEntries(
      OBSERVATION_GROUPINGS.map((g) => [
        g,
        groups[g].map((r) => ({ ...r.row, ...mainValues(r.agg, r.idx) })),
      ]),
    ) as PublishedObservation['groups'],
    partners: {
      totals: partnerValues(data.partnerTotals, partnerTotals),
      rows: partnerRows.map((r) => ({ ...r.row, ...partnerValues(r.agg, r.idx) })),
    },
  };
}
