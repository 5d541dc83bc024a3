import { z } from 'zod';
import { ValidationError } from '../../server/lib/errors';
import {
  findControlCharacter,
  hasControlCharacter,
  paging,
  parseInput,
  withoutControlCharacters,
} from '../../server/lib/validate';

describe('parseInput', () => {
  const schema = z
    .object({ name: z.string(), inner: z.object({ a: z.number() }).strict() })
    .strict();
  const fail = (value: unknown) => {
    try {
      parseInput(schema, value, 'body');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return err as ValidationError;
    }
    throw new Error('expected a validation error');
  };

  it('names each unknown key, nested ones with their path', () => {
    const err = fail({ name: 'x', inner: { a: 1, b: 2 }, extra: true, more: 1 });
    const fields = (err.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(['extra', 'inner.b', 'more']);
    expect(err.message).toMatch(/^Invalid body: /);
  });

  it('names a field of the wrong type', () => {
    const err = fail({ name: 3, inner: { a: 1 } });
    expect(err.details).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it('when the whole value has the wrong type, then the field is "body"', () => {
    const err = fail([1, 2]);
    expect(err.details).toEqual([expect.objectContaining({ field: 'body' })]);
  });

  it.each(['a\u0000b', 'bell\u0007', 'esc\u001b[0m', 'del\u007f', 'c1\u0085'])(
    'refuses a control character (%j), naming the field',
    (name) => {
      const err = fail({ name, inner: { a: 1 } });
      expect(err.details).toEqual([
        {
          field: 'name',
          message: 'must not contain a control character (NUL and the like)',
          code: 'control_character',
        },
      ]);
    },
  );

  it('keeps tab, line feed and carriage return (multi-line text)', () => {
    expect(parseInput(schema, { name: 'a\tb\r\nc', inner: { a: 1 } }, 'body').name).toBe(
      'a\tb\r\nc',
    );
  });

  it('finds a control character in a prototype-less object, as the query and form parsers make', () => {
    const query = Object.assign(Object.create(null) as object, { q: ['ok', 'x\u0001'] });
    expect(findControlCharacter(query, 'query')).toBe('q.1');
    expect(findControlCharacter('\u0000', 'query')).toBe('query');
    expect(findControlCharacter({ ok: 'fine' })).toBeNull();
  });

  it('bounds page so that the SQL offset stays a bigint', () => {
    const q = z.object(paging).strict();
    expect(parseInput(q, {}, 'query')).toEqual({ page: 1, pageSize: 20 });
    expect(() => parseInput(q, { page: '1000000000000000000' }, 'query')).toThrow(ValidationError);
    expect(() => parseInput(q, { pageSize: '101' }, 'query')).toThrow(ValidationError);
  });
});

describe('withoutControlCharacters', () => {
  it('when a text pasted from a word processor holds control characters, then exactly those go and tabs and line breaks stay', () => {
    const pasted = 'Ligne\u000bune\u0000\u0007\u001b\u007f\u0085\tdeux\r\ntrois é ’';
    const cleaned = withoutControlCharacters(pasted);
    expect(cleaned).toBe('Ligneune\tdeux\r\ntrois é ’');
    expect(hasControlCharacter(cleaned)).toBe(false);
    expect(hasControlCharacter(pasted)).toBe(true);
  });
});
