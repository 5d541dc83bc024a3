/**
 * The observation's precomputed answers (observation_snapshots) and their refresh: one
 * `observation.refresh` deadline per structure, on every full hour, each run planning the next.
 */
export const OBSERVATION_REFRESH = 'observation.refresh';
/** How often a structure's snapshots are computed again. */
export const OBSERVATION_REFRESH_MS = 60 * 60_000;
/**
 * A snapshot is served while it is younger than this (two refreshes missed, say with the worker
 * down, and the next read computes the answer live again).
 */
export const OBSERVATION_MAX_AGE_MS = 2 * OBSERVATION_REFRESH_MS + 10 * 60_000;
/** A snapshot nobody read for this long is no longer refreshed, and is deleted. */
export const OBSERVATION_KEEP_UNREAD_MS = 7 * 24 * 60 * 60_000;
/** The most periods one refresh computes again (the most recently read first). */
export const OBSERVATION_REFRESH_MAX_PERIODS = 12;
/** `read_at` is written at most this often (a read that finds it recent writes nothing). */
export const OBSERVATION_READ_MARK_MS = 60 * 60_000;

/** The first full hour after `after` (Paris is a whole number of hours from UTC). */
export function nextFullHour(after: Date): Date {
  return new Date((Math.floor(after.getTime() / 3_600_000) + 1) * 3_600_000);
}
