import { observationCsv } from '../../../server/features/observation/observation-csv';
import type { Observation } from '../../../server/features/observation/observation-service';
import type {
  MainValues,
  PartnerValues,
} from '../../../server/features/observation/observation-table';

const main = (o: Partial<MainValues> = {}): MainValues => ({
  identified: 12,
  reached: '< 5',
  notClaimed: 7,
  claimInProgress: '< 5',
  obtained: 6,
  refused: '< 5',
  abandoned: '< 5',
  nonKnowledge: '< 5',
  nonRequest: '< 5',
  nonReceipt: '< 5',
  nonProposal: '< 5',
  medianDaysToFirstContact: 2.5,
  yearlyAmountObtained: null,
  ...o,
});
const partner: PartnerValues = {
  sent: 10,
  accepted: 6,
  declined: 5,
  waiting: '< 5',
  withdrawn: '< 5',
  acceptanceRate: 0.55,
  medianResponseBusinessDays: null,
};

const observation = (labels: string[]): Observation => ({
  from: '2026-01-01',
  to: '2026-11-28',
  by: 'district',
  threshold: 5,
  computedAt: '2026-11-28T21:00:00.000Z',
  totals: main(),
  rows: labels.map((label, i) => ({ key: `k${i}`, label, qpv: i % 2 === 0, ...main() })),
  partners: { totals: partner, rows: [{ key: 'p', label: '@partenaire', ...partner }] },
});

describe('observation CSV', () => {
  it('starts with a BOM and French heads, separated by semicolons, lines ended by CRLF', () => {
    const csv = observationCsv(observation(['Nord']));
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    const lines = csv.slice(1).split('\r\n');
    expect(lines[0].split(';').slice(0, 4)).toEqual([
      'Quartier',
      'QPV',
      'Personnes repérées',
      'Personnes jointes pour la première fois',
    ]);
    // Suppressed counts as published, a decimal comma, a withheld amount in words.
    expect(lines[1]).toBe('Total;;12;< 5;7;< 5;< 5;< 5;< 5;< 5;6;< 5;< 5;2,5;non diffusé');
    expect(lines[2].startsWith('Nord;oui;12;')).toBe(true);
    expect(csv).toContain('\r\nPartenaire;Orientations envoyées;');
    expect(csv).toContain(';10;6;5;< 5;< 5;55;non diffusé\r\n');
  });

  it.each([
    ['=HYPERLINK("http://evil.test","x")', `"'=HYPERLINK(""http://evil.test"",""x"")"`],
    ['+33 6 12', "'+33 6 12"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tTAB', "'\tTAB"],
    ['\rCR', `"'\rCR"`],
  ])(
    'prefixes a label that a spreadsheet would take for a formula (%j) with a quote',
    (label, cell) => {
      const csv = observationCsv(observation([label]));
      expect(csv).toContain(`\r\n${cell};oui;12;`);
    },
  );

  it('escapes a partner named like a formula too', () => {
    expect(observationCsv(observation([]))).toContain("\r\n'@partenaire;10;");
  });
});
