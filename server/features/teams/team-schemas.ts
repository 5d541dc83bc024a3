import { z } from 'zod';
import { expectedVersion, plainString, uuid } from '../../lib/validate';

const name = () =>
  plainString().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const ids = () =>
  z
    .array(uuid())
    .max(500, 'must list at most 500 users')
    .transform((a) => [...new Set(a)]);

export const teamIdParams = z.object({ id: uuid() }).strict();

export const createTeamBody = z
  .object({ name: name(), memberIds: ids().optional(), managerIds: ids().optional() })
  .strict();
export type CreateTeamInput = z.infer<typeof createTeamBody>;

export const updateTeamBody = z
  .object({
    name: name().optional(),
    memberIds: ids().optional(),
    managerIds: ids().optional(),
    version: expectedVersion('team'),
  })
  .strict()
  .refine((b) => Object.keys(b).some((k) => k !== 'version'), {
    path: ['name'],
    message: 'give a name, memberIds or managerIds',
  });
export type UpdateTeamInput = z.infer<typeof updateTeamBody>;

const person = z.object({ id: z.uuid(), name: z.string(), role: z.string() });
export const teamView = z.object({
  id: z.uuid(),
  name: z.string(),
  version: z.number().int().meta({ description: 'Send it back with a change (409 if stale)' }),
  members: z.array(person).meta({ description: 'workers and managers who belong to the team' }),
  managers: z.array(person).meta({ description: 'managers who lead the team' }),
});
