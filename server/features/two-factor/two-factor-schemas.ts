import { z } from 'zod';
import { plainString, uuid } from '../../lib/validate';

/** A code typed from the app (6 digits) or a recovery code (`xxxx-xxxx-xxxx-xxxx`). */
export const codeBody = z
  .object({ code: plainString().trim().min(1, 'is required').max(32, 'is too long') })
  .strict();

export const userParams = z.object({ id: uuid() }).strict();

export const twoFactorStatusView = z.object({
  enabled: z.boolean(),
  enabledAt: z.iso.datetime().nullable(),
  recoveryCodesLeft: z.number().int(),
  required: z.boolean().meta({ description: "Whether the structure's settings require it" }),
});

export const enrolmentView = z.object({
  secret: z.string().meta({ description: 'Base32 secret, to type in the app by hand' }),
  otpauthUri: z.string(),
  qrCode: z.string().meta({ description: 'The QR code of otpauthUri, an SVG data URI' }),
});

export const recoveryCodesView = z.object({
  recoveryCodes: z
    .array(z.string())
    .meta({ description: 'Shown this once; each works once in place of a code' }),
});
