import { z } from 'zod';
import {
  CONTROL_CHARACTER_MESSAGE,
  ControlCharacterError,
  ValidationError,
  type FieldIssue,
} from './errors';

export function zodIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  const name = (path: PropertyKey[]) =>
    [prefix, ...path.map(String)].filter(Boolean).join('.') || (prefix ?? 'body');
  // A strict object reports its unknown keys on the object itself: name each key instead.
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: name([...i.path, k]), message: 'is not an accepted field' }))
      : [{ field: name(i.path), message: i.message }],
  );
}

/**
 * The control characters no field, query parameter or body may hold: C0 but tab, line feed and
 * carriage return (a textarea sends CRLF), DEL and C1. PostgreSQL text cannot hold U+0000 (it
 * failed there with a 500); the others are invisible, come from copy-pastes or probes, and
 * break what is shown or exported. One definition, read by `parseInput` (the API), `plainString`
 * and the middleware every form and query goes through (server/http/control-characters.ts).
 */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isControlCharacter(s.charCodeAt(i))) return true;
  return false;
}

const isControlCharacter = (c: number) =>
  (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f);

/** The text without its control characters: what a page gives back of a form refused for one. */
export function withoutControlCharacters(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) if (!isControlCharacter(s.charCodeAt(i))) out += s[i];
  return out;
}

/**
 * The path of the first string holding a control character (`root` for a bare string), or
 * null. Iterative, so a deeply nested body cannot overflow the stack; plain objects only (with or
 * without a prototype: the query and form parsers make prototype-less ones).
 */
export function findControlCharacter(value: unknown, root = 'body'): string | null {
  const stack: { v: unknown; path: string[] }[] = [{ v: value, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (hasControlCharacter(v)) return path.join('.') || root;
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: [...path, String(i)] }));
    } else if (v && typeof v === 'object') {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) continue;
      for (const [k, item] of Object.entries(v)) stack.push({ v: item, path: [...path, k] });
    }
  }
  return null;
}

/** Parses or throws a 400 that names each faulty field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.infer<S> {
  const res = schema.safeParse(value);
  if (res.success) {
    const field = findControlCharacter(res.data);
    if (field === null) return res.data;
    throw new ControlCharacterError(field, where);
  }
  const details = zodIssues(res.error);
  const first = details[0];
  throw new ValidationError(`Invalid ${where}: ${first.field}: ${first.message}`, details);
}

/** Common field schemas. */
/** A string stored as plain PostgreSQL text: no control character (web forms share it). */
export const plainString = () =>
  z.string().refine((s) => !hasControlCharacter(s), CONTROL_CHARACTER_MESSAGE);
/**
 * A one-line text (a name, an area): besides the control characters every string refuses, no
 * tab or line break either, which only multi-line texts (descriptions, notes) may hold.
 */
export const oneLine = (max: number) =>
  plainString()
    .trim()
    .min(1, 'must not be empty')
    .max(max)
    .refine((s) => !/[\t\r\n]/.test(s), 'must be on one line (no tab or line break)');
export const uuid = () => z.uuid({ message: 'must be a UUID' });
/** A query-string flag: exactly "true" or "false". */
export const queryFlag = () =>
  z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional();
export const paging = {
  // Bounded so the offset stays a valid bigint for PostgreSQL.
  page: z.coerce.number().int().min(1).max(100000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
};
export const isoDateTime = () =>
  z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time with time zone' })
    .transform((s) => new Date(s));

/**
 * The explicit confirmation a due moment in the past needs (recording an action already late):
 * without it, such a date is a 400 naming the date field (date-rules.ts).
 */
export const allowPast = () =>
  z
    .boolean()
    .optional()
    .meta({ description: 'Confirms a due moment in the past (else 400 naming the date)' });

/** A row's version as a change sends it back (optimistic concurrency: 409 when it moved). */
export const knownVersion = () =>
  z.number().int().min(1, 'must be a known version').max(2147483647, 'must be a known version');

/** The version a change was decided on, where the contract's body leaves it optional. */
export const expectedVersion = (what: string) =>
  knownVersion()
    .optional()
    .meta({ description: `The version the change was decided on; 409 if the ${what} changed` });

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** A page whose total was counted up to a cap: `totalCapped` says more match. */
export type CappedPage<T> = Page<T> & { totalCapped: boolean };
