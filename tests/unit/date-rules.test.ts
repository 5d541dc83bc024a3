import { fixedClock } from '../../server/lib/clock';
import {
  assertDates,
  atLatestNow,
  birthYearInRange,
  CLOCK_SKEW_MS,
  currentYear,
  notInFuture,
  notInPast,
} from '../../server/lib/date-rules';
import { ValidationError } from '../../server/lib/errors';

const minutes = (n: number) => n * 60_000;

describe('date rules, with a fixed clock', () => {
  // Saturday 5 December 2026, 23:58 in Paris (UTC+1): a weekend night, two minutes to Sunday.
  const clock = fixedClock('2026-12-05T22:58:00Z');
  const now = clock.now();
  const at = (ms: number) => new Date(now.getTime() + ms);

  it('allows a few minutes of clock skew and no more', () => {
    expect(CLOCK_SKEW_MS).toBe(minutes(5));
  });

  describe('what happened (a contact, a consent) is not in the future', () => {
    it('accepts now, the past, and a device clock up to 5 minutes ahead (Sunday 00:02)', () => {
      expect(notInFuture('occurredAt', now, now)).toBeNull();
      expect(notInFuture('occurredAt', at(-minutes(60 * 24 * 365)), now)).toBeNull();
      expect(notInFuture('occurredAt', at(minutes(4)), now)).toBeNull();
      expect(notInFuture('occurredAt', at(CLOCK_SKEW_MS), now)).toBeNull();
    });

    it('refuses a moment past the skew (Sunday 00:04 and a second), naming the field', () => {
      expect(notInFuture('givenAt', at(CLOCK_SKEW_MS + 1000), now)).toEqual({
        field: 'givenAt',
        code: 'date_in_future',
        message: 'must not be in the future',
      });
      expect(notInFuture('occurredAt', at(minutes(60 * 24)), now)?.code).toBe('date_in_future');
    });

    it('has nothing to say about a date not given', () => {
      expect(notInFuture('occurredAt', undefined, now)).toBeNull();
    });

    it('records a moment within the skew ahead as now, and a past one as it is', () => {
      expect(atLatestNow(at(minutes(3)), now)).toEqual(now);
      expect(atLatestNow(at(-minutes(3)), now)).toEqual(at(-minutes(3)));
      expect(atLatestNow(now, now)).toEqual(now);
    });
  });

  describe('a follow-up falls due in the past only when the user confirms it', () => {
    it('accepts a due moment later this night or on Monday: the weekend changes nothing', () => {
      expect(notInPast('dueAt', at(minutes(2)), now, undefined)).toBeNull();
      // Monday 7 December, 09:00 in Paris.
      expect(notInPast('dueAt', new Date('2026-12-07T08:00:00Z'), now, undefined)).toBeNull();
    });

    it('accepts a moment just gone within the skew (Saturday 23:55 typed, sent at 23:58)', () => {
      expect(notInPast('dueAt', at(-minutes(3)), now, undefined)).toBeNull();
      expect(notInPast('dueAt', at(-CLOCK_SKEW_MS), now, false)).toBeNull();
    });

    it('refuses Saturday 20:00 without confirmation, naming the field, and accepts it with allowPast', () => {
      const saturdayEvening = new Date('2026-12-05T19:00:00Z');
      expect(notInPast('dueAt', saturdayEvening, now, undefined)).toEqual({
        field: 'dueAt',
        code: 'date_in_past',
        message: 'is in the past: send allowPast: true to confirm it',
      });
      expect(notInPast('nextFollowUpAt', saturdayEvening, now, false)?.field).toBe(
        'nextFollowUpAt',
      );
      expect(notInPast('dueAt', saturdayEvening, now, true)).toBeNull();
      expect(notInPast('dueAt', at(-CLOCK_SKEW_MS - 1000), now, undefined)?.code).toBe(
        'date_in_past',
      );
    });

    it('has nothing to say about a date not given', () => {
      expect(notInPast('dueAt', undefined, now, undefined)).toBeNull();
    });
  });

  describe('a birth year from 1900 to the current year', () => {
    it('takes the bounds themselves and refuses what lies outside, naming the field', () => {
      expect(birthYearInRange('birthYear', 1900, now)).toBeNull();
      expect(birthYearInRange('birthYear', 2026, now)).toBeNull();
      expect(birthYearInRange('birthYear', 1899, now)).toEqual({
        field: 'birthYear',
        code: 'birth_year_out_of_range',
        message: 'must be between 1900 and 2026',
      });
      expect(birthYearInRange('birthYear', 2027, now)?.code).toBe('birth_year_out_of_range');
      expect(birthYearInRange('birthYear', null, now)).toBeNull();
      expect(birthYearInRange('birthYear', undefined, now)).toBeNull();
    });

    it('reads the year in Paris: on Saturday 31 December 2022 at 23:30 it is still 2022, at 00:30 (23:30 UTC) it is 2023', () => {
      const saturdayNight = fixedClock('2022-12-31T22:30:00Z');
      expect(currentYear(saturdayNight.now())).toBe(2022);
      expect(birthYearInRange('birthYear', 2023, saturdayNight.now())?.code).toBe(
        'birth_year_out_of_range',
      );
      saturdayNight.advance(minutes(60));
      // UTC still says 2022; Paris has entered 2023.
      expect(saturdayNight.now().getUTCFullYear()).toBe(2022);
      expect(currentYear(saturdayNight.now())).toBe(2023);
      expect(birthYearInRange('birthYear', 2023, saturdayNight.now())).toBeNull();
      expect(birthYearInRange('birthYear', 2024, saturdayNight.now())?.message).toBe(
        'must be between 1900 and 2023',
      );
    });
  });

  describe('assertDates', () => {
    it('does nothing when every rule holds', () => {
      expect(() =>
        assertDates(notInFuture('occurredAt', now, now), notInPast('dueAt', now, now, false)),
      ).not.toThrow();
    });

    it('throws one 400 naming every faulty field with its code', () => {
      let caught: unknown;
      try {
        assertDates(
          notInFuture('occurredAt', at(minutes(30)), now),
          notInPast('nextFollowUpAt', at(-minutes(30)), now, undefined),
          birthYearInRange('birthYear', 1975, now),
        );
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      const err = caught as ValidationError;
      expect(err.status).toBe(400);
      expect(err.code).toBe('validation_failed');
      expect(err.message).toBe('Invalid body: occurredAt: must not be in the future');
      expect(err.details).toEqual([
        expect.objectContaining({ field: 'occurredAt', code: 'date_in_future' }),
        expect.objectContaining({ field: 'nextFollowUpAt', code: 'date_in_past' }),
      ]);
    });
  });
});
