import fc from 'fast-check';
import {
  emptyMain,
  publishObservation,
  type MainAggregate,
  type ObservationData,
  type ObservationDimensions,
  type MainValues,
  type PartnerAggregate,
  type PartnerValues,
  type PublishedObservation,
} from '../../../server/features/observation/observation-table';
import {
  OBSERVATION_GROUPINGS,
  type ObservationGrouping,
} from '../../../server/features/observation/observation-schemas';
import { PERSON_SOURCES } from '../../../server/features/persons/person-schemas';

/*
 * Property: over random people, rights and referrals, no suppressed value of a published
 * observation can be recomputed, from one answer (totals, the rows of one grouping and the
 * partners) or from two answers of the same period (two groupings, the totals shared).
 *
 * The reader's knowledge is written here again, apart from the code under test: every linear
 * relation that holds between published cells. From the shown cells and these relations, a
 * suppressed cell is recomputable exactly when its unit vector lies in the row space of the
 * relations restricted to the suppressed cells; that is checked with exact rational arithmetic
 * (BigInt fractions), by reducing the unit vector against an echelon basis.
 */

const REASONS = ['nonKnowledge', 'nonRequest', 'nonReceipt', 'nonProposal'] as const;
const STATUS_COLUMNS = ['claimInProgress', 'obtained', 'refused', 'abandoned'] as const;
const RIGHT_COLS = ['notClaimed', ...STATUS_COLUMNS, ...REASONS] as const;
const ALL_COLS = ['identified', 'reached', ...RIGHT_COLS] as const;
const PARTNER_PARTS = ['accepted', 'declined', 'waiting', 'withdrawn'] as const;

type Status = (typeof STATUS_COLUMNS)[number] | (typeof REASONS)[number];
interface Person {
  district: string;
  source: string;
  team: string;
  identified: boolean;
  reached: boolean;
  rights: { right: string; status: Status; cents: number | null }[];
}
interface Referral {
  partner: string;
  outcome: (typeof PARTNER_PARTS)[number];
}
interface World {
  threshold: number;
  districts: number;
  teams: number;
  rights: number;
  partners: number;
  people: Person[];
  referrals: Referral[];
}

const world: fc.Arbitrary<World> = fc
  .record({
    threshold: fc.integer({ min: 2, max: 6 }),
    districts: fc.integer({ min: 0, max: 3 }),
    teams: fc.integer({ min: 0, max: 2 }),
    rights: fc.integer({ min: 1, max: 3 }),
    partners: fc.integer({ min: 0, max: 2 }),
  })
  .chain((w) => {
    const pick = (prefix: string, n: number, extra: string[]) =>
      fc.constantFrom(...Array.from({ length: n }, (_, i) => `${prefix}${i}`), ...extra);
    const person: fc.Arbitrary<Person> = fc.record({
      district: pick('d', w.districts, ['none']),
      // Mostly two sources, so that some rows are large and others small.
      source: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('outreach', 'partner') },
        { weight: 1, arbitrary: fc.constantFrom(...PERSON_SOURCES) },
      ),
      team: pick('t', w.teams, ['multiple', 'none']),
      identified: fc.boolean(),
      reached: fc.boolean(),
      rights: fc.uniqueArray(
        fc.record({
          right: pick('r', w.rights, []),
          status: fc.constantFrom<Status>(...STATUS_COLUMNS, ...REASONS),
          cents: fc.option(fc.integer({ min: 0, max: 80000 }), { nil: null }),
        }),
        { maxLength: w.rights, selector: (r) => r.right },
      ),
    });
    const referral: fc.Arbitrary<Referral> = fc.record({
      partner: pick('p', Math.max(w.partners, 1), []),
      outcome: fc.constantFrom(...PARTNER_PARTS),
    });
    return fc.record({
      threshold: fc.constant(w.threshold),
      districts: fc.constant(w.districts),
      teams: fc.constant(w.teams),
      rights: fc.constant(w.rights),
      partners: fc.constant(w.partners),
      people: fc.array(person, { maxLength: 60 }),
      referrals: w.partners ? fc.array(referral, { maxLength: 40 }) : fc.constant([]),
    });
  });

/** The aggregates the repository would return for this world (the test's own counting). */
function aggregate(w: World): { data: ObservationData; dims: ObservationDimensions } {
  const empty = (): MainAggregate & { persons: Set<Person> } => ({
    ...emptyMain(),
    medianDays: 3,
    persons: new Set(),
  });
  const totals = empty();
  const groups = Object.fromEntries(OBSERVATION_GROUPINGS.map((g) => [g, new Map()])) as Record<
    ObservationGrouping,
    Map<string, ReturnType<typeof empty>>
  >;
  const slot = (g: ObservationGrouping, key: string) => {
    let a = groups[g].get(key);
    if (!a) groups[g].set(key, (a = empty()));
    return a;
  };
  const addPerson = (a: ReturnType<typeof empty>, p: Person) => {
    a.counts.identified += Number(p.identified);
    a.counts.reached += Number(p.reached);
  };
  const addRight = (a: ReturnType<typeof empty>, p: Person, r: Person['rights'][number]) => {
    a.counts[r.status] += 1;
    if (r.status === 'obtained' && r.cents !== null) {
      a.amountCents += r.cents;
      a.persons.add(p);
      a.amountPersons = a.persons.size;
    }
  };
  for (const p of w.people) {
    const rows = [
      totals,
      slot('district', p.district),
      slot('source', p.source),
      slot('team', p.team),
    ];
    for (const a of rows) addPerson(a, p);
    for (const r of p.rights) {
      for (const a of rows) addRight(a, p, r);
      const byRight = slot('right', r.right);
      addPerson(byRight, p);
      addRight(byRight, p, r);
    }
  }
  const partnerEmpty = (): PartnerAggregate => ({
    counts: { sent: 0, accepted: 0, declined: 0, waiting: 0, withdrawn: 0 },
    medianResponseDays: 2,
    responsePersons: 10,
  });
  const partnerTotals = partnerEmpty();
  const partners = new Map<string, PartnerAggregate>();
  for (const r of w.referrals) {
    const a = partners.get(r.partner) ?? partnerEmpty();
    partners.set(r.partner, a);
    for (const x of [a, partnerTotals]) {
      x.counts.sent += 1;
      x.counts[r.outcome] += 1;
    }
  }
  const list = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, label: `${prefix}${i}` }));
  return {
    data: { totals, groups, partnerTotals, partners },
    dims: {
      rows: {
        district: [...list('d', w.districts), { key: 'none', label: 'Non renseigné' }],
        source: PERSON_SOURCES.map((s) => ({ key: s, label: s })),
        team: [
          ...list('t', w.teams),
          { key: 'multiple', label: 'Plusieurs' },
          { key: 'none', label: 'Non renseigné' },
        ],
        right: list('r', w.rights),
      },
      partners: list('p', w.partners),
    },
  };
}

/* ---- The reader's side: a linear system over the published cells ------------------------- */

interface System {
  /** Published cells: a number, or an unknown when suppressed. Keyed by a stable name. */
  cells: Map<string, { shown: number | null; value: number }>;
  /** Each relation: whole name = sum of part names. */
  relations: { whole: string; parts: string[] }[];
}

function readerSystem(
  pub: PublishedObservation,
  truth: { data: ObservationData },
  groupings: ObservationGrouping[],
): System {
  const cells: System['cells'] = new Map();
  const relations: System['relations'] = [];
  const mark = `< ${pub.threshold}`;
  const put = (name: string, shown: number | string | null, value: number) => {
    if (typeof shown === 'string') expect(shown).toBe(mark);
    cells.set(name, { shown: typeof shown === 'number' ? shown : null, value });
  };
  const main = (prefix: string, row: MainValues, agg: MainAggregate | undefined) => {
    const c = agg?.counts;
    for (const col of ALL_COLS) {
      const value =
        col === 'notClaimed'
          ? REASONS.reduce((s, r) => s + (c?.[r] ?? 0), 0)
          : (c?.[col as keyof MainAggregate['counts']] ?? 0);
      put(`${prefix}.${col}`, row[col] as number | string, value);
    }
    // The amount is published in euros a year; the reader's unknown is that figure.
    const amount = ((agg?.amountCents ?? 0) * 12) / 100;
    put(`${prefix}.amount`, row.yearlyAmountObtained === null ? null : amount, amount);
    relations.push({ whole: `${prefix}.notClaimed`, parts: REASONS.map((r) => `${prefix}.${r}`) });
  };
  main('T', pub.totals, truth.data.totals);
  for (const g of groupings) {
    const rows = pub.groups[g];
    for (const row of rows) main(`${g}:${row.key}`, row, truth.data.groups[g].get(row.key));
    // District, source and team put each person, and their rights, in one row; rights do not.
    const cols = g === 'right' ? RIGHT_COLS : ALL_COLS;
    for (const col of [...cols, 'amount'])
      relations.push({ whole: `T.${col}`, parts: rows.map((r) => `${g}:${r.key}.${col}`) });
  }
  const partner = (prefix: string, row: PartnerValues, agg?: PartnerAggregate) => {
    for (const col of ['sent', ...PARTNER_PARTS] as const)
      put(`${prefix}.${col}`, row[col] as number | string, agg?.counts[col] ?? 0);
    relations.push({ whole: `${prefix}.sent`, parts: PARTNER_PARTS.map((p) => `${prefix}.${p}`) });
  };
  partner('P', pub.partners.totals, truth.data.partnerTotals);
  for (const row of pub.partners.rows)
    partner(`p:${row.key}`, row, truth.data.partners.get(row.key));
  // A structure that never referred anyone lists no partner: that its referrals are 0 is then
  // public (a structural zero, told by the empty list itself), not a small count recomputed.
  if (pub.partners.rows.length)
    for (const col of ['sent', ...PARTNER_PARTS])
      relations.push({
        whole: `P.${col}`,
        parts: pub.partners.rows.map((r) => `p:${r.key}.${col}`),
      });
  return { cells, relations };
}

/** Exact rationals. */
interface Q {
  n: bigint;
  d: bigint;
}
const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
};
const q = (n: bigint, d = 1n): Q => {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
};
const sub = (a: Q, b: Q) => q(a.n * b.d - b.n * a.d, a.d * b.d);
const mul = (a: Q, b: Q) => q(a.n * b.n, a.d * b.d);
const div = (a: Q, b: Q) => q(a.n * b.d, a.d * b.n);

/** The suppressed cells whose value the shown cells and the relations determine. */
function recomputable(sys: System): string[] {
  const unknowns = [...sys.cells].filter(([, c]) => c.shown === null).map(([name]) => name);
  const index = new Map(unknowns.map((name, i) => [name, i]));
  const rows: Q[][] = sys.relations.map((r) => {
    const row = unknowns.map(() => q(0n));
    const addTerm = (name: string, coef: bigint) => {
      const i = index.get(name);
      if (i !== undefined) row[i] = q(row[i].n * 1n + coef * row[i].d, row[i].d);
    };
    addTerm(r.whole, 1n);
    for (const p of r.parts) addTerm(p, -1n);
    return row;
  });
  // Echelon basis of the row space (forward elimination only).
  const basis: { pivot: number; row: Q[] }[] = [];
  for (let row of rows) {
    for (const b of basis)
      if (row[b.pivot].n !== 0n) {
        const f = div(row[b.pivot], b.row[b.pivot]);
        row = row.map((x, i) => sub(x, mul(f, b.row[i])));
      }
    const pivot = row.findIndex((x) => x.n !== 0n);
    if (pivot >= 0) basis.push({ pivot, row });
  }
  // e_j is in the row space iff reducing it by the basis (in pivot order) leaves nothing.
  const ordered = [...basis].sort((a, b) => a.pivot - b.pivot);
  return unknowns.filter((_, j) => {
    let v = unknowns.map((__, i) => q(i === j ? 1n : 0n));
    for (const b of ordered)
      if (v[b.pivot].n !== 0n) {
        const f = div(v[b.pivot], b.row[b.pivot]);
        v = v.map((x, i) => sub(x, mul(f, b.row[i])));
      }
    return v.every((x) => x.n === 0n);
  });
}

/** A relation whose shown whole equals its shown parts pins its suppressed parts to 0. */
function pinnedToZero(sys: System): string[] {
  const pinned: string[] = [];
  for (const r of sys.relations) {
    const whole = sys.cells.get(r.whole)!;
    const hiddenParts = r.parts.filter((p) => sys.cells.get(p)!.shown === null);
    if (whole.shown === null || hiddenParts.length === 0) continue;
    const rest = r.parts.reduce((s, p) => s + (sys.cells.get(p)!.shown ?? 0), 0);
    if (whole.shown - rest === 0) pinned.push(...hiddenParts);
  }
  return pinned;
}

/**
 * The people behind each amount cell, from the world itself: those with a right obtained with
 * an amount, in the cell's row (a person with two such rights is in two rows of rights).
 */
function amountPeople(w: World): Map<string, Set<Person>> {
  const out = new Map<string, Set<Person>>();
  const add = (name: string, p: Person) => {
    const set = out.get(name) ?? new Set<Person>();
    out.set(name, set.add(p));
  };
  for (const p of w.people)
    for (const r of p.rights)
      if (r.status === 'obtained' && r.cents !== null)
        for (const name of [
          'T.amount',
          `district:${p.district}.amount`,
          `source:${p.source}.amount`,
          `team:${p.team}.amount`,
          `right:${r.right}.amount`,
        ])
          add(name, p);
  return out;
}

/**
 * The relations whose whole is shown and whose suppressed parts together stand for fewer people
 * than the threshold: the reader computes their sum (the whole minus the shown parts), the value
 * of a group as small as a small cell. A count stands for itself (people, or rights); an amount
 * for the distinct people behind its suppressed parts.
 */
function smallRemainders(sys: System, w: World): string[] {
  const people = amountPeople(w);
  const small: string[] = [];
  for (const r of sys.relations) {
    const hiddenParts = r.parts.filter((p) => sys.cells.get(p)!.shown === null);
    if (sys.cells.get(r.whole)!.shown === null || hiddenParts.length === 0) continue;
    const behind = r.whole.endsWith('.amount')
      ? new Set(hiddenParts.flatMap((p) => [...(people.get(p) ?? [])])).size
      : hiddenParts.reduce((n, p) => n + sys.cells.get(p)!.value, 0);
    if (behind < w.threshold) small.push(`${r.whole} - shown parts = ${hiddenParts.join(' + ')}`);
  }
  return small;
}

describe('published observation (property-based)', () => {
  const run = (check: (w: World) => void, numRuns = 100) =>
    fc.assert(fc.property(world, check), { numRuns, seed: 20261207 });

  it('never shows a count under the threshold, and shows it as "< N"', () =>
    run((w) => {
      const { data, dims } = aggregate(w);
      const pub = publishObservation(data, dims, w.threshold);
      const sys = readerSystem(pub, { data }, [...OBSERVATION_GROUPINGS]);
      for (const [name, c] of sys.cells) {
        if (name.endsWith('.amount')) continue;
        if (c.value < w.threshold) expect(c.shown).toBeNull();
        if (c.shown !== null) {
          expect(c.shown).toBe(c.value);
          expect(c.shown).toBeGreaterThanOrEqual(w.threshold);
        }
      }
    }));

  it('no suppressed value can be recomputed from one answer (totals, one grouping, partners)', () =>
    run((w) => {
      const { data, dims } = aggregate(w);
      const pub = publishObservation(data, dims, w.threshold);
      for (const g of OBSERVATION_GROUPINGS) {
        const sys = readerSystem(pub, { data }, [g]);
        expect(recomputable(sys)).toEqual([]);
        expect(pinnedToZero(sys)).toEqual([]);
      }
    }));

  it('no suppressed value can be recomputed from two groupings of the same period', () =>
    run((w) => {
      const { data, dims } = aggregate(w);
      const pub = publishObservation(data, dims, w.threshold);
      for (const [i, g1] of OBSERVATION_GROUPINGS.entries())
        for (const g2 of OBSERVATION_GROUPINGS.slice(i + 1)) {
          const sys = readerSystem(pub, { data }, [g1, g2]);
          expect(recomputable(sys)).toEqual([]);
        }
    }, 40));

  it('no relation leaves a remainder standing for fewer people than the threshold', () =>
    run((w) => {
      const { data, dims } = aggregate(w);
      const pub = publishObservation(data, dims, w.threshold);
      const sys = readerSystem(pub, { data }, [...OBSERVATION_GROUPINGS]);
      expect(smallRemainders(sys, w)).toEqual([]);
    }));

  it('shows a median or an amount only beside the counts it stands on', () =>
    run((w) => {
      const { data, dims } = aggregate(w);
      const pub = publishObservation(data, dims, w.threshold);
      for (const row of [pub.totals, ...OBSERVATION_GROUPINGS.flatMap((g) => pub.groups[g])]) {
        if (row.medianDaysToFirstContact !== null) expect(typeof row.reached).toBe('number');
        if (row.yearlyAmountObtained !== null) expect(typeof row.obtained).toBe('number');
      }
      for (const row of [pub.partners.totals, ...pub.partners.rows])
        if (row.medianResponseBusinessDays !== null) {
          expect(typeof row.accepted).toBe('number');
          expect(typeof row.declined).toBe('number');
        }
    }));

  it('the checker itself finds a value left alone in its relation (it can fail)', () => {
    // Three districts with 10, 2 and 12 people: hiding only the 2 lets the reader compute it.
    const sys: System = {
      cells: new Map([
        ['T', { shown: 24, value: 24 }],
        ['a', { shown: 10, value: 10 }],
        ['b', { shown: null, value: 2 }],
        ['c', { shown: 12, value: 12 }],
      ]),
      relations: [{ whole: 'T', parts: ['a', 'b', 'c'] }],
    };
    expect(recomputable(sys)).toEqual(['b']);
    sys.cells.set('a', { shown: null, value: 10 });
    expect(recomputable(sys)).toEqual([]);
  });
});
