import { z } from 'zod';

/** The API's request header carrying a creation's one-time key. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** A key is kept at least this long; the nightly retention run removes the older ones. */
export const IDEMPOTENCY_KEEP_HOURS = 24;

/**
 * A one-time key: 1 to 255 visible ASCII characters. A page form's is a random UUID drawn when
 * the page renders the form; an API client sends its own (a UUID is best), one per creation.
 */
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters');
