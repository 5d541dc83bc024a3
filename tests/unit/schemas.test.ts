import { loginBody } from '../../server/features/auth/auth-router';
import { createContactBody } from '../../server/features/contacts/contact-schemas';
import {
  createFollowUpBody,
  updateFollowUpBody,
} from '../../server/features/follow-ups/follow-up-schemas';
import {
  createPersonBody,
  searchPersonsQuery,
  updatePersonBody,
} from '../../server/features/persons/person-schemas';

/** The web forms parse with these schemas too, without the API's parseInput guard. */
describe('input schemas shared by the API and the web forms', () => {
  const failsOn = (res: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
    res.success ? [] : res.error!.issues.map((i) => i.path.join('.'));

  it.each([
    ['person alias', createPersonBody, { alias: 'a\u0000', source: 'outreach' }, 'alias'],
    ['person last name', updatePersonBody, { lastName: '\u0000', version: 1 }, 'lastName'],
    ['search q', searchPersonsQuery, { q: 'x\u0000' }, 'q'],
    [
      'follow-up title',
      createFollowUpBody,
      { title: 'T\u0000', dueAt: '2026-11-20T10:00:00Z' },
      'title',
    ],
    ['follow-up new title', updateFollowUpBody, { title: '\u0000x' }, 'title'],
    [
      'contact follow-up title',
      createContactBody,
      {
        occurredAt: '2026-11-20T10:00:00Z',
        channel: 'street',
        outcome: 'reached',
        nextFollowUpTitle: 'a\u0000',
      },
      'nextFollowUpTitle',
    ],
    ['login email', loginBody, { email: 'a\u0000@b.c', password: 'x' }, 'email'],
  ])('refuses a NUL character in the %s', (_what, schema, input, field) => {
    expect(failsOn(schema.safeParse(input))).toContain(field);
  });

  it('keeps a person version within a PostgreSQL integer', () => {
    expect(failsOn(updatePersonBody.safeParse({ version: 2147483648 }))).toContain('version');
    expect(updatePersonBody.safeParse({ version: 2147483647 }).success).toBe(true);
  });

  it('accepts an alias-only person and refuses one without alias or name', () => {
    expect(createPersonBody.safeParse({ alias: 'Homme ~50 ans', source: 'outreach' }).success).toBe(
      true,
    );
    expect(failsOn(createPersonBody.safeParse({ alias: '  ', source: 'outreach' }))).toContain(
      'alias',
    );
  });
});
