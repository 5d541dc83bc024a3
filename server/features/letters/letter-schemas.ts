import { z } from 'zod';
import { isoDateTime, plainString } from '../../lib/validate';

const phone = () =>
  plainString()
    .trim()
    .min(6, 'must be a phone number')
    .max(30, 'must be at most 30 characters')
    .regex(/^[0-9+().\s-]+$/, 'must be a phone number (digits, spaces, + . - ( ))');

/**
 * A letter for a person reachable by post (spec §5): a meeting proposed (when and where), or a
 * number to call. The phone defaults to the letterhead's.
 */
export const createLetterBody = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('meeting'),
        at: isoDateTime(),
        place: plainString().trim().min(1, 'is required').max(300),
        phone: phone().optional(),
      })
      .strict(),
    z
      .object({
        kind: z.literal('call'),
        phone: phone().optional(),
        /** When to call, as the structure says it ("du lundi au vendredi, de 9 h à 12 h"). */
        hours: plainString().trim().min(1).max(200).optional(),
      })
      .strict(),
  ],
  { message: 'kind must be meeting or call' },
);
export type CreateLetterInput = z.infer<typeof createLetterBody>;
