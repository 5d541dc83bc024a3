import { z } from 'zod';
import { ROLES } from '../../auth/actor';
import { emailAddress } from '../../lib/email-address';
import { expectedVersion, plainString, uuid } from '../../lib/validate';
const name = () =>
  plainString().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const teamIds = () =>
  z
    .array(uuid())
    .max(100, 'must list at most 100 teams')
    .transform((a) => [...new Set(a)]);

export const userIdParams = z.object({ id: uuid() }).strict();

export const listUsersQuery = z
  .object({
    role: z.enum(ROLES).optional(),
    partnerId: uuid().optional(),
    disabled: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    page: z.coerce.number().int().min(1).max(10000).default(1),
    pageSize: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type ListUsersQuery = z.infer<typeof listUsersQuery>;

export const inviteUserBody = z
  .object({
    email: emailAddress(),
    name: name(),
    role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }),
    teamIds: teamIds().optional().meta({ description: 'Only for the roles worker and manager' }),
    partnerId: uuid()
      .optional()
      .meta({ description: 'Required for the role partner, and only for it' }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.role === 'partner' && !b.partnerId)
      ctx.addIssue({ code: 'custom', path: ['partnerId'], message: 'is required for a partner' });
    if (b.role !== 'partner' && b.partnerId)
      ctx.addIssue({ code: 'custom', path: ['partnerId'], message: 'is only for a partner' });
    if (b.teamIds?.length && b.role !== 'worker' && b.role !== 'manager')
      ctx.addIssue({
        code: 'custom',
        path: ['teamIds'],
        message: 'only workers and managers belong to teams',
        // Named, so that a page says this rule in its own words (`teamIds:not_staff`), as it
        // says the service's `not_staff` on a user's change.
        params: { rule: 'not_staff' },
      });
  });
export type InviteUserInput = z.infer<typeof inviteUserBody>;

export const updateUserBody = z
  .object({
    name: name().optional(),
    role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }).optional(),
    teamIds: teamIds().optional(),
    disabled: z.boolean().optional(),
    version: expectedVersion('user'),
  })
  .strict()
  .refine((b) => Object.keys(b).some((k) => k !== 'version'), {
    path: ['role'],
    message: 'give name, role, teamIds or disabled',
  });
export type UpdateUserInput = z.infer<typeof updateUserBody>;

/** The notice managers get when a user leaves the staff (disabled, or another role) holding work. */
export const STAFF_LEFT_WITH_WORK = 'user.left_with_work';

export const passwordResetBody = z.object({ email: emailAddress() }).strict();

export const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  partnerId: z.uuid().nullable(),
  disabled: z.boolean(),
  passwordSet: z.boolean(),
  teams: z.array(z.object({ id: z.uuid(), name: z.string(), isLead: z.boolean() })),
  createdAt: z.iso.datetime(),
  version: z.number().int().meta({ description: 'Send it back with a change (409 if stale)' }),
});
export const setPasswordBody = z
  .object({
    token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not a valid link token'),
    password: z.string().min(1, 'is required').max(1024),
  })
  .strict();
