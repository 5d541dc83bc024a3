import { z } from 'zod';
import { allowPast, isoDateTime, paging, plainString, uuid } from '../../lib/validate';

export const CHANNELS = [
  'street',
  'home_visit',
  'phone',
  'office',
  'mail',
  'email',
  'sms',
  'partner_meeting',
  'video',
] as const;
export const OUTCOMES = ['reached', 'not_reached', 'refused', 'appointment_set'] as const;
export type Channel = (typeof CHANNELS)[number];
export type Outcome = (typeof OUTCOMES)[number];
/** The outcomes that count as a successful contact: the person was reached or set a meeting. */
export const REACHED_OUTCOMES: readonly Outcome[] = ['reached', 'appointment_set'];
/** The same, as an SQL list for other repositories: `('reached', 'appointment_set')`. */
export const REACHED_OUTCOMES_SQL = `(${REACHED_OUTCOMES.map((o) => `'${o}'`).join(', ')})`;

export const createContactBody = z
  .object({
    occurredAt: isoDateTime(),
    channel: z.enum(CHANNELS, { message: 'must be one of ' + CHANNELS.join(', ') }),
    outcome: z.enum(OUTCOMES, { message: 'must be one of ' + OUTCOMES.join(', ') }),
    summary: z.string().max(10000).optional(),
    privateNote: z.string().max(10000).optional(),
    nextFollowUpAt: isoDateTime().optional(),
    nextFollowUpTitle: plainString().trim().min(1).max(200).optional(),
    /** Confirms a next follow-up due in the past. */
    allowPast: allowPast(),
  })
  .strict()
  // A title alone would be dropped without a word: the follow-up needs its date.
  .refine((c) => c.nextFollowUpTitle === undefined || c.nextFollowUpAt !== undefined, {
    path: ['nextFollowUpAt'],
    message: 'is required when nextFollowUpTitle is given',
  })
  .refine((c) => c.allowPast === undefined || c.nextFollowUpAt !== undefined, {
    path: ['allowPast'],
    message: 'goes with nextFollowUpAt only',
  });
export type CreateContactInput = z.infer<typeof createContactBody>;

export const listContactsQuery = z.object({ ...paging }).strict();
export const personParams = z.object({ id: uuid() }).strict();
