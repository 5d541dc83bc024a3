import { z } from 'zod';
import { paging, uuid } from '../../lib/validate';

const BACKLOG_GROUPINGS = ['assignee', 'team', 'district', 'partner'] as const;
export type BacklogGrouping = (typeof BACKLOG_GROUPINGS)[number];

/** Overdue follow-ups by age (Paris calendar days late), then the other counts of a group. */
export const FOLLOW_UP_BUCKETS = ['d0_7', 'd8_30', 'd31_plus', 'week'] as const;
export const BACKLOG_BUCKETS = [
  ...FOLLOW_UP_BUCKETS,
  'late_referrals',
  'no_contact_30',
  'no_contact_90',
  'reports',
] as const;
export type BacklogBucket = (typeof BACKLOG_BUCKETS)[number];

/** A group without a value (a person without district or référent) has this key. */
export const NO_KEY = 'none';

/**
 * The team filter: one team, or several with the parameter repeated (`teamId=…&teamId=…`), whose
 * members' work counts, each item once; absent, the whole structure.
 */
const teamFilter = z
  .union([uuid(), z.array(uuid()).min(1).max(100)])
  .optional()
  .meta({
    description:
      "A team of the structure, or several with the parameter repeated (teamId=…&teamId=…): their members' work, each item once; absent, the whole structure",
  });

export const backlogQuery = z
  .object({
    groupBy: z.enum(BACKLOG_GROUPINGS).default('assignee'),
    teamId: teamFilter,
  })
  .strict();
export type BacklogQuery = z.infer<typeof backlogQuery>;

export const backlogItemsQuery = z
  .object({
    groupBy: z.enum(BACKLOG_GROUPINGS).default('assignee'),
    teamId: teamFilter,
    key: z.union([uuid(), z.literal(NO_KEY)]),
    bucket: z.enum(BACKLOG_BUCKETS),
    ...paging,
  })
  .strict();
export type BacklogItemsQuery = z.infer<typeof backlogItemsQuery>;

/* Response bodies, for the OpenAPI document. */

const counts = z.object(
  Object.fromEntries(BACKLOG_BUCKETS.map((b) => [b, z.number().int()])) as Record<
    BacklogBucket,
    z.ZodNumber
  >,
);
export const backlogView = z
  .object({
    groupBy: z.enum(BACKLOG_GROUPINGS),
    teamId: z.uuid().nullable().meta({
      description: 'The one team filtered; null for the whole structure or several teams',
    }),
    teamIds: z
      .array(z.uuid())
      .meta({ description: 'Every team filtered; empty for the whole structure' }),
    at: z.iso.datetime(),
    groups: z.array(
      z.object({
        key: z.string().meta({ description: 'a user, team, district or partner id, or "none"' }),
        label: z.string().nullable(),
        active: z.boolean().nullable().meta({
          description:
            'By assignee, whether the user is still active staff (an enabled worker or manager): false for a leaver still holding work; null for the other groupings and the group "none"',
        }),
        counts,
      }),
    ),
    totals: counts.meta({
      description:
        'The open work of the structure (or of the team filtered), each item once: by team an item counts in each team of its user, and by partner only files referred to a partner show, so there the groups do not add up to these',
    }),
  })
  .meta({ id: 'Backlog' });

const person = { id: z.uuid(), personId: z.uuid(), personLabel: z.string() };
export const backlogItemView = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('follow_up'),
      ...person,
      title: z.string(),
      dueAt: z.iso.datetime(),
      assigneeId: z.uuid(),
      assigneeName: z.string().nullable(),
      version: z.number().int(),
    }),
    z.object({
      type: z.literal('referral'),
      ...person,
      partnerId: z.uuid(),
      partnerName: z.string(),
      sentAt: z.iso.datetime(),
      requesterId: z.uuid().nullable(),
      requesterName: z.string().nullable(),
    }),
    z.object({
      type: z.literal('person'),
      ...person,
      lastContactAt: z.iso
        .datetime()
        .nullable()
        .meta({ description: 'The last contact logged; null when none ever was' }),
      createdAt: z.iso.datetime().meta({ description: "The file's creation" }),
      noContactSince: z.iso.datetime().meta({
        description:
          'What the no-contact buckets count from: the last contact, or the file’s creation without one',
      }),
      referentId: z.uuid().nullable(),
      referentName: z.string().nullable(),
    }),
    z.object({
      type: z.literal('report'),
      id: z.uuid(),
      receiptNumber: z.string(),
      receivedAt: z.iso.datetime(),
      channel: z.enum(['public', 'partner']),
      triageDueAt: z.iso.datetime().nullable(),
    }),
  ])
  .meta({ id: 'BacklogItem' });
