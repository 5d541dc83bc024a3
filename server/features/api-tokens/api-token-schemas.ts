import { z } from 'zod';
import { pageOf } from '../../lib/openapi';
import { plainString, uuid } from '../../lib/validate';

export const createTokenBody = z
  .object({
    name: plainString()
      .trim()
      .min(1, 'is required')
      .max(80, 'must be 80 characters at most')
      .meta({ description: 'What the token is for, e.g. the partner system using it' }),
    expiresInDays: z
      .number({ message: 'must be a whole number of days' })
      .int('must be a whole number of days')
      .min(1, 'must be at least 1')
      .max(730, 'must be at most 730')
      .optional()
      .meta({ description: 'Days until the token stops working; without it, until revoked' }),
  })
  .strict();
export type CreateTokenInput = z.infer<typeof createTokenBody>;

export const tokenParams = z.object({ id: uuid() }).strict();

export const tokenView = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().meta({ description: 'The first characters of the token, to recognise it' }),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable().meta({ description: 'To the minute' }),
  revokedAt: z.iso.datetime().nullable(),
});

export const createdTokenView = tokenView.extend({
  token: z.string().meta({
    description: 'The token, shown this once: send it as "Authorization: Bearer <token>"',
  }),
});

export const tokenListView = pageOf(tokenView);
