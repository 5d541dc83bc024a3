import { z } from 'zod';
import { ValidationError } from '../../server/lib/errors';
import {
  changedFields,
  formFromServiceError,
  lengthMessage,
  parseWith,
  versionField,
} from '../../server/web/forms';

/** Where zod issues and service refusals become the pages' French words. */
describe('form messages', () => {
  const schema = z
    .object({
      name: z.string().trim().min(1, 'must not be empty').max(120),
      summary: z.string().max(10000).optional(),
      password: z.string().min(12).optional(),
      kind: z.enum(['a', 'b']).optional(),
    })
    .strict();
  const messages = {
    name: 'Indiquez un nom',
    summary: 'Le résumé n’est pas valide',
    kind: 'Choisissez un type',
  };

  const errorsOf = (values: Record<string, string>) => {
    const parsed = parseWith(schema, values, values, messages);
    if (parsed.ok) throw new Error('expected the form to be refused');
    return parsed.form;
  };

  it('says the maximum length, and how many characters were typed, instead of the field’s generic words', () => {
    const form = errorsOf({ name: 'x'.repeat(134) });
    expect(form.errors.name).toBe('Saisissez 120 caractères au plus (134 saisis)');
    // The typed values come back whole.
    expect(form.values.name).toBe('x'.repeat(134));
  });

  it('writes large numbers the French way, with a space that does not break', () => {
    const form = errorsOf({ name: 'Nom', summary: 'y'.repeat(10001) });
    expect(form.errors.summary).toBe(
      'Saisissez 10\u00a0000 caractères au plus (10\u00a0001 saisis)',
    );
  });

  it('says the minimum length when a field is too short', () => {
    const form = errorsOf({ name: 'Nom', password: 'court' });
    expect(form.errors.password).toBe('Saisissez au moins 12 caractères (5 saisis)');
  });

  it('keeps the field’s own words for a required field left empty and for other mistakes', () => {
    const form = errorsOf({ name: '   ', kind: 'c' });
    expect(form.errors.name).toBe('Indiquez un nom');
    expect(form.errors.kind).toBe('Choisissez un type');
  });

  it('counts what was measured: a trimmed field is counted trimmed', () => {
    const issue = z.string().trim().max(3).safeParse('  abcd  ').error!.issues[0];
    expect(lengthMessage(issue, '  abcd  ')).toBe('Saisissez 3 caractères au plus (4 saisis)');
    const number = z.number().max(3).safeParse(4).error!.issues[0];
    expect(lengthMessage(number, '4')).toBeNull();
  });

  it('chooses a service refusal’s words by field and code, then by field', () => {
    const err = new ValidationError('Invalid body: occurredAt: must not be in the future', [
      { field: 'occurredAt', message: 'must not be in the future', code: 'date_in_future' },
      { field: 'body.referentId', message: 'is not a worker of your structure' },
    ]);
    const values = { occurredAt: '2026-12-06T10:00', referentId: 'x' };
    const form = formFromServiceError(err, values, {
      occurredAt: 'Indiquez la date du contact',
      'occurredAt:date_in_future': 'La date du contact est dans le futur',
      referentId: 'Choisissez un référent',
    });
    expect(form).toEqual({
      values,
      errors: {
        occurredAt: 'La date du contact est dans le futur',
        referentId: 'Choisissez un référent',
      },
    });
  });

  describe('a form sent back with a 409', () => {
    it('when saved values differ from the typed ones, then those fields come with their saved value in words; line breaks, spaces and the order of ticked boxes are no change', () => {
      const typed = { name: 'Jean ', note: 'a\r\nb', teams: 'y,x', role: 'worker', phone: '06' };
      const saved = { name: 'Jean', note: 'a\nb', teams: 'x,y', role: 'manager', phone: '' };
      expect(
        changedFields(typed, saved, {
          lists: ['teams'],
          show: (name, raw) => (name === 'role' ? `rôle ${raw}` : raw),
        }),
      ).toEqual({ role: 'rôle manager', phone: '' });
      // A list compared as text would differ; a field the form did not send differs from a
      // saved value.
      expect(changedFields({ teams: 'y,x' }, { teams: 'x,y' })).toEqual({ teams: 'x,y' });
      expect(changedFields({}, { area: 'Angers' })).toEqual({ area: 'Angers' });
      // Numbers named so compare by value; any other field, a phone say, as typed.
      expect(
        changedFields(
          { days: '05', year: ' 1960 ', phone: '0612', other: '07' },
          { days: '5', year: '1961', phone: '612', other: '7' },
          { numbers: ['days', 'year'] },
        ),
      ).toEqual({ year: '1961', phone: '612', other: '7' });
      expect(changedFields({ days: 'cinq' }, { days: '5' }, { numbers: ['days'] })).toEqual({
        days: '5',
      });
      // An empty saved value is said in words too (an unticked box, say).
      expect(
        changedFields({ pause: '1' }, { pause: '' }, { show: (_n, raw) => (raw ? 'oui' : 'non') }),
      ).toEqual({ pause: 'non' });
    });

    it('when a form carries its version, then digits only become the number; anything else fails the schema (NaN); none is none', () => {
      expect(versionField({ version: '12' })).toEqual({ version: 12 });
      expect(versionField({ version: ' 3 ' })).toEqual({ version: 3 });
      for (const v of ['', 'abc', '1e3', '-1', '12345678901'])
        expect(versionField({ version: v }).version).toBeNaN();
      expect(versionField({})).toEqual({});
      expect(versionField({ version: ['1', '2'] })).toEqual({});
    });
  });
});
