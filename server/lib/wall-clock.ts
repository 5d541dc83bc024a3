import { DateTime } from 'luxon';

/** The time zone of every wall-clock time the app reads or shows. */
export const TIME_ZONE = 'Europe/Paris';

/** The calendar day of an instant where the app's users live (Europe/Paris), YYYY-MM-DD. */
export const parisDay = (at: Date | string): string =>
  DateTime.fromJSDate(new Date(at), { zone: TIME_ZONE }).toFormat('yyyy-MM-dd');

/** A date and time as a clock on the wall shows it, in some time zone. */
interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

/** The wall-clock time of an instant (seconds dropped below the second). */
export function wallClockOf(at: Date, timeZone = TIME_ZONE): Required<WallClock> {
  const t = DateTime.fromJSDate(at, { zone: timeZone });
  return {
    year: t.year,
    month: t.month,
    day: t.day,
    hour: t.hour,
    minute: t.minute,
    second: t.second,
  };
}

/**
 * The instant a wall-clock time names, or null when it is no date (31 February, 24:00). Around
 * the changes of time it is read as the clocks were set: a time the spring change skips (02:30)
 * is taken an hour later in summer time, the same instant as winter time's 02:30; a time the
 * autumn change shows twice is the second, in winter time.
 */
export function instantOf(w: WallClock, timeZone = TIME_ZONE): Date | null {
  // Luxon takes 24:00 for the next midnight; a clock never shows it.
  if (w.hour > 23) return null;
  const t = DateTime.fromObject(
    {
      year: w.year,
      month: w.month,
      day: w.day,
      hour: w.hour,
      minute: w.minute,
      second: w.second ?? 0,
    },
    { zone: timeZone },
  );
  if (!t.isValid) return null;
  // Which of an autumn time's two instants Luxon picks depends on today's offset: choose.
  const later = t.getPossibleOffsets().reduce((a, b) => (b.offset < a.offset ? b : a), t);
  return later.toJSDate();
}

/**
 * The first instant strictly after `after` at which the wall clock shows `hhmm` ("03:00"), any
 * day of the week: for the nightly runs, which do not follow the business calendar.
 */
export function nextDailyTime(after: Date, hhmm: string, timeZone = TIME_ZONE): Date {
  const [hour, minute] = hhmm.split(':').map(Number);
  let day = DateTime.fromJSDate(after, { zone: timeZone }).startOf('day');
  for (;;) {
    const at = instantOf(
      { year: day.year, month: day.month, day: day.day, hour, minute },
      timeZone,
    );
    if (at && at > after) return at;
    day = day.plus({ days: 1 });
  }
}

/** The instant `months` calendar months before `at`, counted on the wall clock. */
export function monthsBefore(at: Date, months: number, timeZone = TIME_ZONE): Date {
  return DateTime.fromJSDate(at, { zone: timeZone }).minus({ months }).toJSDate();
}

/** The instant a "YYYY-MM-DD" day starts on the wall clock, `addDays` days later. */
export function dayStart(day: string, addDays = 0, timeZone = TIME_ZONE): Date {
  const t = DateTime.fromISO(day, { zone: timeZone });
  if (!t.isValid) throw new RangeError(`Not a day: ${day}`);
  return t.startOf('day').plus({ days: addDays }).toJSDate();
}
