import { ValidationError, type FieldIssue } from './errors';
import { wallClockOf } from './wall-clock';

/**
 * Dates that make sense, written once: what happened is not in the future, what is planned is
 * not in the past unless the user says so, a birth year is a year someone alive was born in.
 * "Now" is always the caller's injected clock, so the rules hold the same on any day of the week
 * and in tests.
 */

/**
 * How far a typed moment may sit on the wrong side of the server's clock and still count as
 * "now": a phone whose clock runs a little fast, a form filled in at 10:00 and sent at 10:01.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The earliest birth year a person file accepts. */
export const MIN_BIRTH_YEAR = 1900;

/** Each rule's stable code, carried by the issue it raises: pages choose their words by it. */
export type DateRuleCode = 'date_in_future' | 'date_in_past' | 'birth_year_out_of_range';

export interface DateIssue extends FieldIssue {
  code: DateRuleCode;
}

/** The year it is now where the app's users live (Europe/Paris): 1 January starts at Paris midnight. */
export function currentYear(now: Date): number {
  return wallClockOf(now).year;
}

/** Something that happened (a contact, a consent given): not after now, clock skew aside. */
export function notInFuture(field: string, at: Date | undefined, now: Date): DateIssue | null {
  if (!at || at.getTime() <= now.getTime() + CLOCK_SKEW_MS) return null;
  return { field, code: 'date_in_future', message: 'must not be in the future' };
}

/**
 * Something planned (a follow-up falling due): not before now, clock skew aside, unless the user
 * confirms it (`allowPast`), as when recording an action already late.
 */
export function notInPast(
  field: string,
  at: Date | undefined,
  now: Date,
  allowPast: boolean | undefined,
): DateIssue | null {
  if (!at || allowPast || at.getTime() >= now.getTime() - CLOCK_SKEW_MS) return null;
  return {
    field,
    code: 'date_in_past',
    message: 'is in the past: send allowPast: true to confirm it',
  };
}

/** A birth year from 1900 to the current year. */
export function birthYearInRange(
  field: string,
  year: number | null | undefined,
  now: Date,
): DateIssue | null {
  if (year === null || year === undefined) return null;
  const max = currentYear(now);
  if (year >= MIN_BIRTH_YEAR && year <= max) return null;
  return {
    field,
    code: 'birth_year_out_of_range',
    message: `must be between ${MIN_BIRTH_YEAR} and ${max}`,
  };
}

/**
 * Where a moment that passed notInFuture is recorded: a moment within the skew ahead is taken as
 * now, so nothing is ever stored in the future (a consent given "in two minutes" would not be
 * valid yet, and a referral made at once would be refused).
 */
export function atLatestNow(at: Date, now: Date): Date {
  return at.getTime() > now.getTime() ? now : at;
}

/** Throws one 400 naming every field whose date breaks a rule; does nothing when none does. */
export function assertDates(...issues: (DateIssue | null)[]): void {
  const found = issues.filter((i): i is DateIssue => i !== null);
  if (found.length === 0) return;
  const [first] = found;
  throw new ValidationError(`Invalid body: ${first.field}: ${first.message}`, found);
}
