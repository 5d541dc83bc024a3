import { z } from 'zod';
import { ValidationError, type FieldIssue } from './errors';

export function zodIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || (prefix ?? 'body'),
    message: i.message,
  }));
}

/** Parses or throws a 400 that names each faulty field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.infer<S> {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const details = zodIssues(res.error);
  const first = details[0];
  throw new ValidationError(`Invalid ${where}: ${first.field}: ${first.message}`, details);
}

/** Common field schemas. */
export const uuid = () => z.uuid({ message: 'must be a UUID' });
export const paging = {
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
};
export const isoDateTime = () =>
  z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time with time zone' })
    .transform((s) => new Date(s));

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
