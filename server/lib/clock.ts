/** Injected wherever time matters, so tests can fix it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function fixedClock(
  at: Date | string,
): Clock & { set(d: Date | string): void; advance(ms: number): void } {
  let t = new Date(at).getTime();
  return {
    now: () => new Date(t),
    set: (d) => {
      t = new Date(d).getTime();
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Real time that started at `at`: for journeys that must happen on a working morning. */
export function shiftedClock(at: Date | string): Clock {
  const offset = new Date(at).getTime() - Date.now();
  return { now: () => new Date(Date.now() + offset) };
}
