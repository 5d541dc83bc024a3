import { z } from 'zod';
import { ValidationError } from '../../server/lib/errors';
import { formFromServiceError, lengthMessage, parseWith } from '../../server/web/forms';

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
});
