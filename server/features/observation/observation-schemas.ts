import { z } from 'zod';

/** How the rows of an answer are cut. District, source and team cut people in parts; rights do not. */
export const OBSERVATION_GROUPINGS = ['district', 'right', 'source', 'team'] as const;
export type ObservationGrouping = (typeof OBSERVATION_GROUPINGS)[number];

/** Counts of people (a person is in one district, one source, one team key). */
export const PERSON_COLUMNS = ['identified', 'reached'] as const;
/** The four Odenore reasons, whose counts add up to `notClaimed`. */
export const REASON_COLUMNS = ['nonKnowledge', 'nonRequest', 'nonReceipt', 'nonProposal'] as const;
/** Counts of rights (a person with two rights counts in two of them). */
export const RIGHT_COLUMNS = [
  'notClaimed',
  'claimInProgress',
  'obtained',
  'refused',
  'abandoned',
  ...REASON_COLUMNS,
] as const;
export const MAIN_COLUMNS = [...PERSON_COLUMNS, ...RIGHT_COLUMNS] as const;
export type MainColumn = (typeof MAIN_COLUMNS)[number];

/** Referrals sent in the period by their first outcome: sent = accepted + declined + waiting + withdrawn. */
export const PARTNER_PARTS = ['accepted', 'declined', 'waiting', 'withdrawn'] as const;
export const PARTNER_COLUMNS = ['sent', ...PARTNER_PARTS] as const;
export type PartnerColumn = (typeof PARTNER_COLUMNS)[number];

/** The row key of people without a value (no district, a referent in no team). */
export const NO_KEY = 'none';
/** The team key of people whose referent belongs to several teams (each person counts once). */
export const SEVERAL_TEAMS_KEY = 'multiple';

/** The longest period asked at once (about ten years): bounds the work of one request. */
export const MAX_PERIOD_DAYS = 3660;
export const SPAN_MESSAGE = `must be less than ${MAX_PERIOD_DAYS} days before to`;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Whether a YYYY-MM-DD string names a real calendar day between 2000 and 2100. */
function isCalendarDay(s: string): boolean {
  const m = DAY.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return (
    y >= 2000 &&
    y <= 2100 &&
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d
  );
}
const day = () =>
  z
    .string()
    .refine(isCalendarDay, 'must be a date YYYY-MM-DD (2000 to 2100)')
    .meta({ description: 'a calendar day, YYYY-MM-DD (Paris time)' });

export const dayNumber = (s: string) => Date.parse(`${s}T00:00:00Z`) / 86_400_000;

export const observationQuery = z
  .object({
    from: day()
      .optional()
      .meta({ description: 'first day of the period; default: a year before `to`' }),
    to: day().optional().meta({ description: 'last day of the period (included); default: today' }),
    by: z
      .enum(OBSERVATION_GROUPINGS, {
        message: `must be one of ${OBSERVATION_GROUPINGS.join(', ')}`,
      })
      .optional()
      .meta({ description: 'how to cut the rows; absent: totals only (no rows)' }),
  })
  .strict()
  .refine((q) => !q.from || !q.to || q.from <= q.to, {
    path: ['to'],
    message: 'must not be before from',
  })
  .refine((q) => !q.from || !q.to || dayNumber(q.to) - dayNumber(q.from) < MAX_PERIOD_DAYS, {
    path: ['from'],
    message: SPAN_MESSAGE,
  });
export type ObservationQuery = z.infer<typeof observationQuery>;

/* Response bodies, for the OpenAPI document. */

const count = z.union([z.number().int().min(0), z.string().regex(/^< \d+$/)]).meta({
  description:
    'a count, or "< N" (N the structure\'s threshold) when withheld: under N, or hidden so that a small count cannot be recomputed from the others',
});
const withheld = (description: string) =>
  z
    .number()
    .nullable()
    .meta({ description: `${description}; null when withheld` });

const mainCounts = {
  identified: count.meta({ description: 'people whose file was created in the period' }),
  reached: count.meta({
    description: 'people first reached in the period (a contact reached them or set a meeting)',
  }),
  notClaimed: count.meta({
    description:
      'rights not claimed (the sum of the four reasons), counting each right with its last status at the end of the period among those recorded or changed in it',
  }),
  claimInProgress: count,
  obtained: count,
  refused: count,
  abandoned: count,
  nonKnowledge: count,
  nonRequest: count,
  nonReceipt: count,
  nonProposal: count,
  medianDaysToFirstContact: withheld(
    'median of the calendar days from identification to the first successful contact, over the people reached; withheld unless the count of people reached is shown',
  ),
  yearlyAmountObtained: withheld(
    'euros a year of the rights obtained (sum of monthly amounts × 12); withheld when fewer people than the threshold stand behind it, or behind what the total minus the amounts shown would leave, when the count of rights obtained is hidden, or when it could be recomputed',
  ),
};

const partnerCounts = {
  sent: count.meta({ description: 'referrals sent in the period' }),
  accepted: count.meta({ description: 'of them, accepted by the partner' }),
  declined: count.meta({ description: 'rejected by the partner, or expired without an answer' }),
  waiting: count.meta({ description: 'still waiting for an answer' }),
  withdrawn: count.meta({ description: 'cancelled before any answer' }),
  acceptanceRate: withheld(
    'accepted / (accepted + declined), 0 to 1; withheld unless both counts are shown',
  ),
  medianResponseBusinessDays: withheld(
    "median of the business days (the structure's calendar) from sending to the partner's answer; withheld under the threshold of people, or unless both the accepted and declined counts are shown",
  ),
};

export const observationView = z
  .object({
    from: z.string(),
    to: z.string(),
    by: z.enum(OBSERVATION_GROUPINGS).nullable(),
    threshold: z.number().int(),
    totals: z.object(mainCounts),
    rows: z
      .array(
        z.object({
          key: z.string().meta({
            description:
              'district or team id, right code or source; "none" for people without one, "multiple" for people whose referent is in several teams',
          }),
          label: z.string(),
          qpv: z
            .boolean()
            .optional()
            .meta({ description: 'districts only: a priority district of city policy (QPV)' }),
          ...mainCounts,
        }),
      )
      .meta({
        description:
          'one row per district (and "none"), right of the catalogue, source, or team (and "multiple", "none"); empty without `by`. District, source and team rows add up to the totals; right rows add up to them for the rights columns, while their people columns count the people who have that right tracked',
      }),
    partners: z
      .object({
        totals: z.object(partnerCounts),
        rows: z.array(z.object({ key: z.uuid(), label: z.string(), ...partnerCounts })),
      })
      .meta({
        description:
          'referrals sent in the period, by partner (every partner the structure ever referred to)',
      }),
    computedAt: z.iso.datetime().meta({
      description:
        'when the counts were computed: the data as it stood then. Answers come from a snapshot of the period, computed again every hour for the default period and the periods read in the last 7 days; a period without a snapshot of the last 2 h 10 min is computed at the request (and stored). Labels, rows and the threshold are those in force at the request',
    }),
  })
  .meta({ id: 'Observation' });
