import { createBusinessCalendar } from '../../server/lib/calendar';

const cal = createBusinessCalendar();
const paris = (iso: string) => new Date(iso);

describe('business calendar (Europe/Paris, French public holidays, 08:30–18:00)', () => {
  it('when counting business days, then weekends are skipped and the Paris time of day is kept', () => {
    // Thursday 10:00 in winter + 2 business days = Monday 10:00.
    expect(cal.addBusinessDays(paris('2026-11-26T10:00:00+01:00'), 2).toISOString()).toBe(
      paris('2026-11-30T10:00:00+01:00').toISOString(),
    );
  });

  it('when a public holiday falls in the span, then it does not count', () => {
    // Wednesday 23 December 2026 + 2 business days: 24 (Thursday), 25 is Christmas, so Monday 28.
    expect(cal.addBusinessDays(paris('2026-12-23T09:00:00+01:00'), 2).toISOString()).toBe(
      paris('2026-12-28T09:00:00+01:00').toISOString(),
    );
  });

  it('when the span crosses the change to summer time, then the local hour stays the same', () => {
    // Friday 27 March 2026 09:00 (UTC+1) + 1 business day = Monday 30 March 09:00 (UTC+2).
    expect(cal.addBusinessDays(paris('2026-03-27T09:00:00+01:00'), 1).toISOString()).toBe(
      paris('2026-03-30T09:00:00+02:00').toISOString(),
    );
  });

  it('when Alsace-Moselle is set, then Good Friday and 26 December are holidays too', () => {
    const alsace = createBusinessCalendar({ alsaceMoselle: true });
    expect(cal.isBusinessDay(paris('2026-04-03T12:00:00+02:00'))).toBe(true);
    expect(alsace.isBusinessDay(paris('2026-04-03T12:00:00+02:00'))).toBe(false);
    expect(alsace.isBusinessDay(paris('2026-12-26T12:00:00+01:00'))).toBe(false);
  });

  it('when a message is due in working hours, then it leaves at once', () => {
    const at = paris('2026-11-24T10:00:00+01:00');
    expect(cal.nextWorkingMoment(at)).toBe(at);
  });

  it('when a message is due before 08:30, at night or on a weekend, then it waits for the next working morning', () => {
    expect(cal.nextWorkingMoment(paris('2026-11-24T07:00:00+01:00')).toISOString()).toBe(
      paris('2026-11-24T08:30:00+01:00').toISOString(),
    );
    expect(cal.nextWorkingMoment(paris('2026-11-24T18:00:00+01:00')).toISOString()).toBe(
      paris('2026-11-25T08:30:00+01:00').toISOString(),
    );
    // Saturday afternoon → Monday 08:30.
    expect(cal.nextWorkingMoment(paris('2026-11-28T15:00:00+01:00')).toISOString()).toBe(
      paris('2026-11-30T08:30:00+01:00').toISOString(),
    );
    // Thursday 24 December evening → Monday 28 (25 is Christmas, then the weekend).
    expect(cal.nextWorkingMoment(paris('2026-12-24T19:00:00+01:00')).toISOString()).toBe(
      paris('2026-12-28T08:30:00+01:00').toISOString(),
    );
  });

  it('when the daily digest plans its next moment, then it is the next working day at that Paris time, strictly later, across holidays and summer time', () => {
    const next = (from: string, hhmm = '08:30') =>
      cal.nextBusinessTimeAfter(paris(from), hhmm).toISOString();
    // Before 08:30 on a working day: that very morning; at 08:30 itself: the next working day.
    expect(next('2026-11-24T07:00:00+01:00')).toBe(
      paris('2026-11-24T08:30:00+01:00').toISOString(),
    );
    expect(next('2026-11-24T08:30:00+01:00')).toBe(
      paris('2026-11-25T08:30:00+01:00').toISOString(),
    );
    // Thursday 24 December: Friday is Christmas, then the weekend.
    expect(next('2026-12-24T08:30:00+01:00')).toBe(
      paris('2026-12-28T08:30:00+01:00').toISOString(),
    );
    // Friday 26 March 2027 → Tuesday 30 March (Monday 29 is Easter Monday), in summer time
    // since Sunday (+02:00), still 08:30 in Paris.
    expect(next('2027-03-26T09:00:00+01:00')).toBe(
      paris('2027-03-30T08:30:00+02:00').toISOString(),
    );
    expect(next('2026-11-24T07:00:00+01:00', '07:15')).toBe(
      paris('2026-11-24T07:15:00+01:00').toISOString(),
    );
  });
});
