import {
  emptyMain,
  emptyPartner,
  publishObservation,
  type MainAggregate,
  type ObservationData,
  type ObservationDimensions,
  type PartnerAggregate,
} from '../../../server/features/observation/observation-table';
import { PERSON_SOURCES } from '../../../server/features/persons/person-schemas';

/*
 * publishObservation on small made-up tables: what a reader of one answer sees, and what they
 * could work out from it.
 */

const main = (
  counts: Partial<MainAggregate['counts']>,
  o: Partial<Omit<MainAggregate, 'counts'>> = {},
): MainAggregate => ({ ...emptyMain(), counts: { ...emptyMain().counts, ...counts }, ...o });

const DISTRICTS = ['D1', 'D2', 'D3', 'none'];

/**
 * An observation whose districts are given; every other grouping puts everyone in one row (the
 * source "outreach", the team "none", the right "rsa"), as a structure with one of each would.
 */
function observe(
  totals: MainAggregate,
  districts: Record<string, MainAggregate>,
  partner: PartnerAggregate = emptyPartner(),
  threshold = 5,
) {
  const data: ObservationData = {
    totals,
    groups: {
      district: new Map(Object.entries(districts)),
      source: new Map([['outreach', totals]]),
      team: new Map([['none', totals]]),
      right: new Map([['rsa', totals]]),
    },
    partnerTotals: partner,
    partners: new Map([['p1', partner]]),
  };
  const dims: ObservationDimensions = {
    rows: {
      district: DISTRICTS.map((key) => ({ key, label: key })),
      source: PERSON_SOURCES.map((key) => ({ key, label: key })),
      team: [
        { key: 'multiple', label: 'Plusieurs équipes' },
        { key: 'none', label: 'Non renseigné' },
      ],
      right: [{ key: 'rsa', label: 'RSA' }],
    },
    partners: [{ key: 'p1', label: 'Partenaire' }],
  };
  const pub = publishObservation(data, dims, threshold);
  return { totals: pub.totals, district: pub.groups.district, partner: pub.partners.rows[0] };
}

describe('publishObservation', () => {
  it('when the rows shown leave one person outside them, then their amount is not given away', () => {
    // 26 rights obtained for 26 people, 160 948 € a year; D1 holds 25 of them (150 000 €), D2
    // the last one. Showing D1 would tell that one right outside it is worth 10 948 € a year.
    const { totals, district } = observe(
      main({ obtained: 26 }, { amountCents: 1_341_233, amountPersons: 26 }),
      {
        D1: main({ obtained: 25 }, { amountCents: 1_250_000, amountPersons: 25 }),
        D2: main({ obtained: 1 }, { amountCents: 91_233, amountPersons: 1 }),
      },
    );
    expect(totals).toMatchObject({ obtained: 26, yearlyAmountObtained: 160_948 });
    // D1 is hidden with the small rows: the remainder is then all 26 people.
    expect(district.map((r) => [r.key, r.obtained, r.yearlyAmountObtained])).toEqual([
      ['D1', '< 5', null],
      ['D2', '< 5', null],
      ['D3', '< 5', null],
      ['none', '< 5', null],
    ]);
  });

  it('when the hidden rows together stand for enough people, then the others stay shown', () => {
    // The same, with 6 people outside D1: a remainder of 6 rights, 6 people, hides no one.
    const { district } = observe(
      main({ obtained: 31 }, { amountCents: 1_800_000, amountPersons: 31 }),
      {
        D1: main({ obtained: 25 }, { amountCents: 1_250_000, amountPersons: 25 }),
        D2: main({ obtained: 4 }, { amountCents: 350_000, amountPersons: 4 }),
        D3: main({ obtained: 2 }, { amountCents: 200_000, amountPersons: 2 }),
      },
    );
    expect(district.map((r) => [r.key, r.obtained, r.yearlyAmountObtained])).toEqual([
      ['D1', 25, 150_000],
      ['D2', '< 5', null],
      ['D3', '< 5', null],
      ['none', '< 5', null],
    ]);
  });

  it('when an amount stands for few people though its count is large, then the remainder still counts people', () => {
    // 30 rights obtained, by 30 people; only 7 of them have an amount recorded, 6 in D1 and one
    // in D2: D2's count is shown (10 rights), but its amount stands for 1 person, and so would
    // the total minus D1.
    const { totals, district } = observe(
      main({ obtained: 30 }, { amountCents: 700_000, amountPersons: 7 }),
      {
        D1: main({ obtained: 20 }, { amountCents: 600_000, amountPersons: 6 }),
        D2: main({ obtained: 10 }, { amountCents: 100_000, amountPersons: 1 }),
      },
    );
    expect(totals.yearlyAmountObtained).toBe(84_000);
    expect(district.map((r) => [r.key, r.yearlyAmountObtained])).toEqual([
      ['D1', null],
      ['D2', null],
      ['D3', null],
      ['none', null],
    ]);
  });

  it('when a count is hidden, then the median that stands on it is withheld', () => {
    // 15 people reached: 10 in D1, 5 in D2, none elsewhere. D2 is hidden with the two zeros; a
    // median beside its "< 5" would tell it was 5, hence the zeros 0.
    const { totals, district } = observe(main({ reached: 15 }, { medianDays: 3 }), {
      D1: main({ reached: 10 }, { medianDays: 2 }),
      D2: main({ reached: 5 }, { medianDays: 6 }),
    });
    expect(totals).toMatchObject({ reached: 15, medianDaysToFirstContact: 3 });
    expect(district.map((r) => [r.key, r.reached, r.medianDaysToFirstContact])).toEqual([
      ['D1', 10, 2],
      ['D2', '< 5', null],
      ['D3', '< 5', null],
      ['none', '< 5', null],
    ]);
  });

  it('when the rights obtained are hidden, then their amount is withheld too', () => {
    // D3's 3 rights are hidden, and D2's 7 with them (the remainder would be 3); D2's amount
    // stands for 7 people, but shown beside "< 5" it would tell D2 holds at least 5.
    const { district } = observe(
      main({ obtained: 30 }, { amountCents: 1_200_000, amountPersons: 30 }),
      {
        D1: main({ obtained: 20 }, { amountCents: 100_000, amountPersons: 20 }),
        D2: main({ obtained: 7 }, { amountCents: 900_000, amountPersons: 7 }),
        D3: main({ obtained: 3 }, { amountCents: 200_000, amountPersons: 3 }),
      },
    );
    expect(district.find((r) => r.key === 'D2')).toMatchObject({
      obtained: '< 5',
      yearlyAmountObtained: null,
    });
    for (const r of district) if (r.obtained === '< 5') expect(r.yearlyAmountObtained).toBeNull();
  });

  it('when the accepted or declined referrals are hidden, then the response median is withheld', () => {
    const partner = (accepted: number, declined: number): PartnerAggregate => ({
      counts: { sent: 30, accepted, declined, waiting: 24 - accepted - declined, withdrawn: 6 },
      medianResponseDays: 2,
      responsePersons: accepted + declined,
    });
    // 3 accepted and 4 declined: 7 people answered, but both counts read "< 5".
    const hidden = observe(emptyMain(), {}, partner(3, 4)).partner;
    expect(hidden).toMatchObject({ accepted: '< 5', declined: '< 5' });
    expect(hidden.medianResponseBusinessDays).toBeNull();
    // 6 and 5: both shown, and the median with them.
    const shown = observe(emptyMain(), {}, partner(6, 5)).partner;
    expect(shown).toMatchObject({ accepted: 6, declined: 5, medianResponseBusinessDays: 2 });
  });
});
