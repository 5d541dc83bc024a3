import { z } from 'zod';
import { paging, uuid } from '../../lib/validate';

export const BACKLOG_GROUPINGS = ['assignee', 'team', 'district', 'partner'] as const;
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
export type FollowUpBucket = (typeof FOLLOW_UP_BUCKETS)[number];

/** A group without a value (a person without district or référent) has this key. */
export const NO_KEY = 'none';

export const backlogQuery = z
  .object({
    groupBy: z.enum(BACKLOG_GROUPINGS).default('assignee'),
    teamId: uuid().optional(),
  })
  .strict();
export type BacklogQuery = z.infer<typeof backlogQuery>;

export const backlogItemsQuery = z
  .object({
    groupBy: z.enum(BACKLOG_GROUPINGS).default('assignee'),
    teamId: uuid().optional(),
    key: z.union([uuid(), z.literal(NO_KEY)]),
    bucket: z.enum(BACKLOG_BUCKETS),
    ...paging,
  })
  .strict();
export type BacklogItemsQuery = z.infer<typeof backlogItemsQuery>;
