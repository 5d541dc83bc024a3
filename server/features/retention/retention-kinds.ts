/** Each night at this Paris time, one structure's retention run (a deadline per structure). */
export const RETENTION_NIGHTLY = 'retention.nightly';
export const RETENTION_TIME = '03:00';
/** Audit events are kept this long (spec §3); the database refuses to delete younger ones. */
export const AUDIT_KEEP_MONTHS = 12;
