/**
 * A date some years after the year the suite runs in, for tests on the real clock that need a
 * moment always in the future (a follow-up's due date, a contact's next follow-up):
 * `inYears(4, '01-07T09:00:00Z')` is 7 January at 09:00 UTC, four years on. A fixed year would
 * start failing once that year came (the "not in the past" rule answers 400).
 */
export function inYears(years: number, monthDayTime: string): string {
  return `${new Date().getUTCFullYear() + years}-${monthDayTime}`;
}
