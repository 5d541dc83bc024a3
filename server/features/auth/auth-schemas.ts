import { z } from 'zod';
import { ROLES } from '../../auth/actor';

/* Response bodies, for the OpenAPI document. */

export const actorView = z
  .object({
    id: z.uuid(),
    structureId: z.uuid(),
    role: z.enum(ROLES),
    partnerId: z.uuid().nullable().meta({ description: 'The partner of a partner user' }),
    name: z.string(),
    email: z.string(),
  })
  .strict()
  .meta({ id: 'Actor', description: 'The signed-in user' });

export const meView = z.object({ user: actorView }).strict();

export const sessionView = meView.meta({ description: 'Signed in: the session cookie is set' });

export const preferencesView = z
  .object({
    emailNotifications: z
      .boolean()
      .meta({ description: 'The daily digest by email too (in the app always)' }),
  })
  .strict();
