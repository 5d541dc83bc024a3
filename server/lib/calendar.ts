import Holidays from 'date-holidays';
import { instantOf, TIME_ZONE, wallClockOf } from './wall-clock';

/**
 * The business calendar of the deadline rules: Monday to Friday, French public holidays
 * excluded (Alsace-Moselle's two extra days optional), Europe/Paris time, working hours
 * 08:30–18:00. Durations in business days keep the local time of day.
 */
export interface BusinessCalendar {
  isBusinessDay(at: Date): boolean;
  /** The same Paris time of day, `days` business days later. */
  addBusinessDays(from: Date, days: number): Date;
  /** `at` when it falls in working hours, else the start of the next working morning. */
  nextWorkingMoment(at: Date): Date;
  /** Whether `at` falls in working hours of a business day. */
  isWorkingMoment(at: Date): boolean;
  /** Local midnight of the day of `at`, moved by `addDays` calendar days (Europe/Paris by default). */
  startOfDay(at: Date, addDays?: number): Date;
  /** Local midnight of the Monday after `at`: the end of "this week". */
  startOfNextWeek(at: Date): Date;
  /**
   * The first moment at local time `hhmm` ("HH:MM") of a business day, strictly after `after`:
   * a daily rhythm of working days (the digest), right across summer and winter time.
   */
  nextBusinessTimeAfter(after: Date, hhmm: string): Date;
}

export interface CalendarOptions {
  alsaceMoselle?: boolean;
  timeZone?: string;
  /** "HH:MM", local time. */
  dayStart?: string;
  dayEnd?: string;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  minutes: number;
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

export function createBusinessCalendar(opts: CalendarOptions = {}): BusinessCalendar {
  const timeZone = opts.timeZone ?? TIME_ZONE;
  const start = minutesOf(opts.dayStart ?? '08:30');
  const end = minutesOf(opts.dayEnd ?? '18:00');
  // Moselle, Bas-Rhin and Haut-Rhin share the same two extra days (Good Friday, 26 December).
  const holidays = opts.alsaceMoselle ? new Holidays('FR', '57') : new Holidays('FR');
  const byYear = new Map<number, Set<string>>();
  const local = (at: Date): LocalParts => {
    const p = wallClockOf(at, timeZone);
    return { year: p.year, month: p.month, day: p.day, minutes: p.hour * 60 + p.minute };
  };

  /** The instant of a local date and time, whatever the offset (summer or winter time). */
  const instant = (year: number, month: number, day: number, minutes: number): Date => {
    const at = instantOf(
      { year, month, day, hour: Math.floor(minutes / 60), minute: minutes % 60 },
      timeZone,
    );
    if (!at) throw new Error(`No such local time: ${year}-${month}-${day} ${minutes} min`);
    return at;
  };

  const dateKey = (y: number, m: number, d: number) =>
    `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

  const holidaySet = (year: number) => {
    let set = byYear.get(year);
    if (!set) {
      set = new Set(
        holidays
          .getHolidays(year)
          .filter((h) => h.type === 'public')
          .map((h) => h.date.slice(0, 10)),
      );
      byYear.set(year, set);
    }
    return set;
  };

  const isBusinessDate = (y: number, m: number, d: number) => {
    const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
    return weekday !== 0 && weekday !== 6 && !holidaySet(y).has(dateKey(y, m, d));
  };

  const nextDate = (y: number, m: number, d: number) => {
    const n = new Date(Date.UTC(y, m - 1, d + 1));
    return [n.getUTCFullYear(), n.getUTCMonth() + 1, n.getUTCDate()] as const;
  };

  return {
    isBusinessDay(at) {
      const p = local(at);
      return isBusinessDate(p.year, p.month, p.day);
    },

    addBusinessDays(from, days) {
      const p = local(from);
      let [y, m, d] = [p.year, p.month, p.day];
      let left = days;
      while (left > 0) {
        [y, m, d] = nextDate(y, m, d);
        if (isBusinessDate(y, m, d)) left -= 1;
      }
      return instant(y, m, d, p.minutes);
    },

    nextWorkingMoment(at) {
      const p = local(at);
      if (isBusinessDate(p.year, p.month, p.day)) {
        if (p.minutes >= start && p.minutes < end) return at;
        if (p.minutes < start) return instant(p.year, p.month, p.day, start);
      }
      let [y, m, d] = nextDate(p.year, p.month, p.day);
      while (!isBusinessDate(y, m, d)) [y, m, d] = nextDate(y, m, d);
      return instant(y, m, d, start);
    },

    isWorkingMoment(at) {
      const p = local(at);
      return isBusinessDate(p.year, p.month, p.day) && p.minutes >= start && p.minutes < end;
    },

    startOfDay(at, addDays = 0) {
      const p = local(at);
      const n = new Date(Date.UTC(p.year, p.month - 1, p.day + addDays));
      return instant(n.getUTCFullYear(), n.getUTCMonth() + 1, n.getUTCDate(), 0);
    },

    nextBusinessTimeAfter(after, hhmm) {
      const minutes = minutesOf(hhmm);
      const p = local(after);
      let [y, m, d] = [p.year, p.month, p.day];
      for (let i = 0; i < 370; i++) {
        if (isBusinessDate(y, m, d)) {
          const at = instant(y, m, d, minutes);
          if (at > after) return at;
        }
        [y, m, d] = nextDate(y, m, d);
      }
      throw new Error('No business day within a year');
    },

    startOfNextWeek(at) {
      const p = local(at);
      const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
      const n = new Date(Date.UTC(p.year, p.month - 1, p.day + (weekday === 0 ? 1 : 8 - weekday)));
      return instant(n.getUTCFullYear(), n.getUTCMonth() + 1, n.getUTCDate(), 0);
    },
  };
}

/** Whole business days from `from` to `to` (bounded at a year): the delay a message states. */
export function businessDaysBetween(calendar: BusinessCalendar, from: Date, to: Date): number {
  let n = 0;
  while (n < 366 && calendar.addBusinessDays(from, n + 1) <= to) n += 1;
  return n;
}
