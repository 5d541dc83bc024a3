import {
  personLabel,
  personLabelSql,
  type LabelAudience,
} from '../../../server/features/persons/person-label';
import { testKnex } from '../../setup/db';

/** The label rule and its SQL twin give the same text. */
describe('a person’s label', () => {
  const cases: [string | null, string | null, string | null, string, string][] = [
    // first name, last name, alias, staff label, partner label
    ['Nadia', 'Benali', null, 'Nadia Benali', 'Nadia Benali'],
    ['Nadia', 'Benali', 'Parvis', 'Nadia Benali (Parvis)', 'Nadia Benali'],
    [null, 'Benali', 'Parvis', 'Benali (Parvis)', 'Benali'],
    ['Nadia', null, null, 'Nadia', 'Nadia'],
    [null, null, 'Homme ~50 ans, parvis', 'Homme ~50 ans, parvis', 'Homme ~50 ans, parvis'],
    ['  ', '', 'Parvis', 'Parvis', 'Parvis'],
    [null, null, null, 'Personne sans nom', 'Personne sans nom'],
  ];

  it.each(cases)(
    '%s %s (%s): staff see %j, a partner %j',
    async (first, last, alias, staff, partner) => {
      const p = { firstName: first, lastName: last, alias };
      const expected: Record<LabelAudience, string> = { staff, partner };
      for (const audience of ['staff', 'partner'] as const) {
        expect(personLabel(p, audience)).toBe(expected[audience]);
        const { rows } = await testKnex().raw<{ rows: { label: string }[] }>(
          `select ${personLabelSql('p', audience)} as label from (select ?::text as first_name, ?::text as last_name, ?::text as alias) p`,
          [first, last, alias],
        );
        expect(rows[0].label).toBe(expected[audience]);
      }
    },
  );
});
