import { Settings } from 'luxon';
import { createBusinessCalendar } from '../../server/lib/calendar';
import { instantOf, wallClockOf } from '../../server/lib/wall-clock';
import { parseParisLocal, toParisLocalInput } from '../../server/web/format';

// 2026: summer time starts on 29 March at 01:00 UTC (02:00 → 03:00 in Paris) and ends on
// 25 October at 01:00 UTC (03:00 → 02:00).
const iso = (d: Date | null) => d?.toISOString();

describe('Paris wall-clock time', () => {
  const realNow = Settings.now;
  afterEach(() => {
    Settings.now = realNow;
  });

  it('when an instant is read, then its Paris time follows the offset of the day, on either side of both changes', () => {
    expect(wallClockOf(new Date('2026-03-29T00:59:00Z'))).toMatchObject({
      day: 29,
      hour: 1,
      minute: 59,
    });
    expect(wallClockOf(new Date('2026-03-29T01:00:00Z'))).toMatchObject({
      day: 29,
      hour: 3,
      minute: 0,
    });
    expect(wallClockOf(new Date('2026-10-25T00:30:00Z'))).toMatchObject({
      day: 25,
      hour: 2,
      minute: 30,
    });
    expect(wallClockOf(new Date('2026-10-25T01:30:00Z'))).toMatchObject({
      day: 25,
      hour: 2,
      minute: 30,
    });
    expect(wallClockOf(new Date('2026-12-31T23:30:00Z'))).toMatchObject({
      year: 2027,
      month: 1,
      day: 1,
    });
  });

  it('when a Paris time is read around the spring change, then winter and summer offsets apply and a skipped time is the instant clocks were moved at', () => {
    const at = (hour: number, minute: number) =>
      iso(instantOf({ year: 2026, month: 3, day: 29, hour, minute }));
    expect(at(1, 30)).toBe('2026-03-29T00:30:00.000Z');
    expect(at(3, 30)).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 never showed on Paris clocks that night: read with the winter offset.
    expect(at(2, 30)).toBe('2026-03-29T01:30:00.000Z');
  });

  it('when a Paris time is read around the autumn change, then a time shown twice is its second, winter-time instant, whatever the date today', () => {
    for (const today of ['2026-07-01T12:00:00Z', '2026-12-01T12:00:00Z']) {
      Settings.now = () => new Date(today).getTime();
      const at = (hour: number, minute: number) =>
        iso(instantOf({ year: 2026, month: 10, day: 25, hour, minute }));
      expect(at(1, 30)).toBe('2026-10-24T23:30:00.000Z');
      expect(at(2, 30)).toBe('2026-10-25T01:30:00.000Z');
      expect(at(3, 30)).toBe('2026-10-25T02:30:00.000Z');
    }
  });

  it('when the date does not exist, then there is no instant', () => {
    expect(instantOf({ year: 2026, month: 2, day: 30, hour: 10, minute: 0 })).toBeNull();
    expect(instantOf({ year: 2026, month: 5, day: 1, hour: 24, minute: 0 })).toBeNull();
    expect(parseParisLocal('2026-02-30T10:00')).toBeNull();
    expect(parseParisLocal('demain')).toBeNull();
  });

  it('when a form value goes in and out, then both callers agree across both changes', () => {
    for (const value of [
      '2026-03-28T10:15',
      '2026-03-29T10:15',
      '2026-10-24T10:15',
      '2026-10-25T10:15',
    ]) {
      expect(toParisLocalInput(parseParisLocal(value)!)).toBe(value);
    }
    expect(iso(parseParisLocal('2026-03-29T10:15'))).toBe('2026-03-29T08:15:00.000Z');
    expect(iso(parseParisLocal('2026-10-25T10:15'))).toBe('2026-10-25T09:15:00.000Z');
  });

  it('when business days cross the autumn change, then the calendar keeps the Paris hour', () => {
    // Friday 23 October 2026 09:00 (UTC+2) + 1 business day = Monday 26 October 09:00 (UTC+1).
    const cal = createBusinessCalendar();
    expect(iso(cal.addBusinessDays(new Date('2026-10-23T07:00:00Z'), 1))).toBe(
      '2026-10-26T08:00:00.000Z',
    );
  });
});
