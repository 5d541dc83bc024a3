import { z } from 'zod';
import {
  allowPast,
  expectedVersion,
  isoDateTime,
  paging,
  plainString,
  queryFlag,
  uuid,
} from '../../lib/validate';

const FOLLOW_UP_STATUSES = ['open', 'done', 'cancelled'] as const;
export type FollowUpStatus = (typeof FOLLOW_UP_STATUSES)[number];

export const createFollowUpBody = z
  .object({
    dueAt: isoDateTime(),
    title: plainString().trim().min(1, 'is required').max(200),
    assigneeId: uuid().optional(),
    allowPast: allowPast(),
  })
  .strict();
export type CreateFollowUpInput = z.infer<typeof createFollowUpBody>;

export const updateFollowUpBody = z
  .object({
    // 'open' undoes a completion or a cancellation (reopens it, its deadline planned again).
    status: z.enum(['done', 'cancelled', 'open']).optional(),
    dueAt: isoDateTime().optional(),
    assigneeId: uuid().optional(),
    title: plainString().trim().min(1).max(200).optional(),
    /** A short note when marking it done ("fait par téléphone, RDV le 3"). */
    note: plainString().trim().min(1).max(280).optional(),
    version: expectedVersion('follow-up'),
    allowPast: allowPast(),
  })
  .strict()
  .refine((b) => b.status || b.dueAt || b.assigneeId || b.title, {
    path: ['status'],
    message: 'give at least one of status, dueAt, assigneeId, title',
  })
  .refine((b) => b.note === undefined || b.status === 'done', {
    path: ['note'],
    message: 'a note goes with status done only',
  })
  .refine((b) => b.status !== 'open' || (!b.dueAt && !b.assigneeId && !b.title), {
    path: ['status'],
    message: 'reopening changes nothing else: send status open alone',
  })
  .refine((b) => b.allowPast === undefined || b.dueAt !== undefined, {
    path: ['allowPast'],
    message: 'goes with dueAt only',
  });
export type UpdateFollowUpInput = z.infer<typeof updateFollowUpBody>;

export const listFollowUpsQuery = z
  .object({
    assignee: z.union([z.literal('me'), uuid()]).optional(),
    // Overdue is open and past due; overdue=false, open and not due yet.
    overdue: queryFlag(),
    status: z.enum(FOLLOW_UP_STATUSES).default('open'),
    personId: uuid().optional(),
    dueBefore: isoDateTime().optional(),
    ...paging,
  })
  .strict()
  .refine((q) => q.overdue === undefined || q.status === 'open', {
    path: ['overdue'],
    message: 'only open follow-ups are overdue or not: leave status out or set it to open',
  });
export type ListFollowUpsQuery = z.infer<typeof listFollowUpsQuery>;

/**
 * A manager moves open follow-ups to another worker: those selected (ids), or all of someone's
 * (fromAssigneeId), and with referents: true the files whose référent they are.
 */
export const reassignFollowUpsBody = z
  .object({
    toAssigneeId: uuid(),
    ids: z.array(uuid()).min(1).max(500).optional(),
    fromAssigneeId: uuid().optional(),
    referents: z.boolean().optional(),
  })
  .strict()
  .refine((b) => (b.ids === undefined) !== (b.fromAssigneeId === undefined), {
    path: ['ids'],
    message: 'give either ids or fromAssigneeId',
  })
  .refine((b) => !b.referents || b.fromAssigneeId !== undefined, {
    path: ['referents'],
    message: 'moving référent files needs fromAssigneeId',
  })
  .refine((b) => b.fromAssigneeId === undefined || b.fromAssigneeId !== b.toAssigneeId, {
    path: ['toAssigneeId'],
    message: 'must differ from fromAssigneeId',
  });
export type ReassignFollowUpsInput = z.infer<typeof reassignFollowUpsBody>;

export const followUpParams = z.object({ id: uuid() }).strict();

/** The deadline kind a follow-up's due moment is written as in the outbox. */
export const FOLLOW_UP_DUE = 'follow_up.due';
/** The notification a worker gets when a manager hands them follow-ups. */
export const FOLLOW_UP_REASSIGNED = 'follow_up.reassigned';
/** The notification a worker gets when a manager makes them référent of a leaver's files. */
export const REFERENT_FILES_REASSIGNED = 'person.referent_reassigned';

/* Response bodies, for the OpenAPI document. */

export const followUpView = z
  .object({
    id: z.uuid(),
    personId: z.uuid(),
    personLabel: z.string().nullable(),
    assigneeId: z.uuid(),
    assigneeName: z.string().nullable(),
    createdBy: z.uuid().nullable(),
    contactId: z.uuid().nullable(),
    title: z.string(),
    dueAt: z.iso.datetime(),
    status: z.enum(FOLLOW_UP_STATUSES),
    completedAt: z.iso.datetime().nullable(),
    completionNote: z.string().nullable(),
    overdue: z.boolean().meta({ description: 'Open and past due' }),
    version: z.number().int(),
    canChange: z
      .boolean()
      .meta({ description: 'Whether the caller may complete, reschedule or reassign it' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .strict()
  .meta({ id: 'FollowUp', description: 'A dated action for an assignee' });

export const reassignedView = z
  .object({
    toAssigneeId: z.uuid(),
    followUpIds: z.array(z.uuid()),
    personIds: z.array(z.uuid()).meta({
      description:
        'Files whose référent changed: open and closed ones (reopened, they have a référent at work), never anonymised ones',
    }),
    activePersonIds: z
      .array(z.uuid())
      .meta({ description: 'The open files among personIds (not closed)' }),
  })
  .strict();
