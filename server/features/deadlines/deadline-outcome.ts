/**
 * What handling a deadline decided, as the services that hold the rules answer it to the worker;
 * `note` is kept on the deadline row for admins (never personal data).
 */
export type DeadlineOutcome = { status: 'done' } | { status: 'skipped'; note: string };

export const done = (): DeadlineOutcome => ({ status: 'done' });
export const skipped = (note: string): DeadlineOutcome => ({ status: 'skipped', note });
