import { z } from 'zod';
import { knownVersion, plainString } from '../../lib/validate';

const RIGHT_KINDS = ['national', 'local'] as const;
export type RightKind = (typeof RIGHT_KINDS)[number];

/** A person's right, as the spec names its statuses. */
export const RIGHT_STATUSES = [
  'not_claimed',
  'claim_in_progress',
  'obtained',
  'refused',
  'abandoned',
] as const;
export type RightStatus = (typeof RIGHT_STATUSES)[number];

/** The statuses that end a right's path: a person whose tracked rights all ended is resolved. */
export const ENDED_RIGHT_STATUSES: readonly RightStatus[] = ['obtained', 'refused', 'abandoned'];

/** Why a right is not claimed, in the Odenore categories. */
export const NON_TAKE_UP_REASONS = [
  'non_knowledge',
  'non_request',
  'non_receipt',
  'non_proposal',
] as const;
export type NonTakeUpReason = (typeof NON_TAKE_UP_REASONS)[number];

/** The status a non-take-up reason goes with, and only it. */
export const REASON_STATUS: RightStatus = 'not_claimed';

/** The status a monthly amount goes with, and only it. */
export const AMOUNT_STATUS: RightStatus = 'obtained';

/** The code of the issue of an amount given with another status, for the pages' words. */
export const AMOUNT_NOT_OBTAINED = 'amount_not_obtained';

/**
 * Whether a person's right may be written now. An archived right of the catalogue is no longer
 * set for someone who does not track it yet, but one a person tracks stays updatable: the
 * product measures how each right ends, so its status, reason, amount and note must still move.
 */
export const maySetRight = (right: { archivedAt: Date | null }, tracked: boolean): boolean =>
  !right.archivedAt || tracked;

/** The form of a person's file that updates a right: its own once tracked, else the one adding it. */
export type RightUpdateForm = 'tracked' | 'new';

/**
 * Where a person's file updates each right it may set (maySetRight): a tracked right in its own
 * form, a right of the catalogue not tracked yet in the form adding one. A right missing from
 * the map cannot be set for the person (archived and never tracked).
 */
export function rightUpdateForms(
  catalogue: readonly { code: string; archivedAt: Date | null }[],
  tracked: readonly { code: string }[],
): Map<string, RightUpdateForm> {
  const forms = new Map<string, RightUpdateForm>();
  for (const r of catalogue) if (maySetRight(r, false)) forms.set(r.code, 'new');
  for (const r of tracked) forms.set(r.code, 'tracked');
  return forms;
}

/** The largest monthly amount taken, in euros: beyond it the figure is a typing mistake. */
const MAX_MONTHLY_AMOUNT = 100000;

const CODE_PATTERN = /^[a-z][a-z0-9_]{1,39}$/;
export const rightCode = () =>
  z
    .string()
    .regex(CODE_PATTERN, 'must be 2 to 40 lowercase letters, digits or _, starting with a letter');
const label = () =>
  plainString().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const rightCodeParams = z.object({ code: rightCode() }).strict();
export const personRightParams = z
  .object({ id: z.uuid({ message: 'must be a UUID' }), code: rightCode() })
  .strict();
export const personIdParams = z.object({ id: z.uuid({ message: 'must be a UUID' }) }).strict();

export const createRightBody = z.object({ code: rightCode(), label: label() }).strict();
export type CreateRightInput = z.infer<typeof createRightBody>;

export const updateRightBody = z
  .object({
    label: label().optional(),
    archived: z.boolean().optional(),
    version: knownVersion(),
  })
  .strict()
  .refine((b) => b.label !== undefined || b.archived !== undefined, {
    path: ['label'],
    message: 'give a label or archived',
  });
export type UpdateRightInput = z.infer<typeof updateRightBody>;

export const listRightsQuery = z
  .object({
    archived: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .meta({ description: 'true: archived rights too; absent or false: the rights in use' }),
  })
  .strict();
export type ListRightsQuery = z.infer<typeof listRightsQuery>;

/**
 * The rules of a right's status, one place for the API and the pages: the Odenore reason is
 * required when not claimed and only then; a monthly amount only once obtained.
 */
function personRightIssues(b: {
  status: RightStatus;
  reason?: NonTakeUpReason | null;
  monthlyAmount?: number | null;
}): { field: string; message: string; rule?: string }[] {
  const issues: { field: string; message: string; rule?: string }[] = [];
  if (b.status === REASON_STATUS && !b.reason)
    issues.push({ field: 'reason', message: 'is required when the status is not_claimed' });
  if (b.status !== REASON_STATUS && b.reason)
    issues.push({ field: 'reason', message: 'is only for the status not_claimed' });
  if (b.status !== AMOUNT_STATUS && b.monthlyAmount !== undefined && b.monthlyAmount !== null)
    issues.push({
      field: 'monthlyAmount',
      message: `is only for the status ${AMOUNT_STATUS}`,
      rule: AMOUNT_NOT_OBTAINED,
    });
  return issues;
}

export const setPersonRightBody = z
  .object({
    status: z.enum(RIGHT_STATUSES, { message: 'must be one of ' + RIGHT_STATUSES.join(', ') }),
    reason: z
      .enum(NON_TAKE_UP_REASONS, { message: 'must be one of ' + NON_TAKE_UP_REASONS.join(', ') })
      .nullable()
      .optional()
      .meta({
        description: 'The Odenore reason of non-take-up: required with not_claimed, only then',
      }),
    monthlyAmount: z
      .number()
      .min(0, 'must be 0 or more')
      .max(MAX_MONTHLY_AMOUNT, `must be at most ${MAX_MONTHLY_AMOUNT}`)
      .refine((n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6, 'must have at most 2 decimals')
      .nullable()
      .optional()
      .meta({ description: 'Euros a month, only with obtained' }),
    note: plainString().trim().max(2000, 'must be at most 2000 characters').nullable().optional(),
    version: z.number().int().min(0).max(2147483647).optional().meta({
      description:
        'The version the change was decided on (0: the right was not tracked yet); 409 with the current state if it moved',
    }),
  })
  .strict()
  .superRefine((b, ctx) => {
    for (const i of personRightIssues(b))
      ctx.addIssue({
        code: 'custom',
        path: [i.field],
        message: i.message,
        ...(i.rule ? { params: { rule: i.rule } } : {}),
      });
  });
export type SetPersonRightInput = z.infer<typeof setPersonRightBody>;

/* Response bodies, for the OpenAPI document. */

const at = () => z.iso.datetime();

export const rightView = z
  .object({
    id: z.uuid(),
    code: z.string(),
    label: z.string(),
    kind: z.enum(RIGHT_KINDS),
    archivedAt: at().nullable(),
    version: z.number().int(),
    createdAt: at(),
    updatedAt: at(),
  })
  .strict()
  .meta({ id: 'Right', description: "A right or aid of the structure's catalogue" });

export const personRightChangeView = z
  .object({
    id: z.uuid(),
    code: z.string(),
    label: z.string(),
    fromStatus: z.enum(RIGHT_STATUSES).nullable(),
    status: z.enum(RIGHT_STATUSES),
    reason: z.enum(NON_TAKE_UP_REASONS).nullable(),
    monthlyAmount: z.number().nullable(),
    note: z.string().nullable(),
    actorName: z.string().nullable(),
    at: at(),
  })
  .strict()
  .meta({ id: 'PersonRightChange', description: "One change of a person's right" });

export const personRightView = z
  .object({
    code: z.string(),
    label: z.string(),
    kind: z.enum(RIGHT_KINDS),
    archived: z.boolean(),
    status: z.enum(RIGHT_STATUSES),
    reason: z.enum(NON_TAKE_UP_REASONS).nullable(),
    monthlyAmount: z.number().nullable(),
    note: z.string().nullable(),
    version: z.number().int(),
    updatedAt: at(),
    updatedByName: z.string().nullable(),
    history: z.array(personRightChangeView),
  })
  .strict()
  .meta({
    id: 'PersonRight',
    description: "A person's right with its history, newest change first",
  });
