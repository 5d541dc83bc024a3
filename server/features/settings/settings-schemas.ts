import { z } from 'zod';
import { plainString } from '../../lib/validate';

/** "HH:MM", 00:00 to 23:59. */
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const time = () => z.string().regex(TIME, 'must be a time HH:MM');
const days = (max: number) =>
  z
    .number({ message: 'must be a whole number of days' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);

/**
 * The letterhead of the structure's letters (spec §5): empty fields are left out, an empty name
 * is the structure's own name.
 */
const letterhead = () =>
  z
    .object({
      name: plainString().trim().max(200, 'must be at most 200 characters'),
      addressLines: z
        .array(plainString().trim().min(1, 'must not be empty').max(200))
        .max(4, 'at most 4 lines'),
      phone: plainString().trim().max(30, 'must be at most 30 characters'),
      email: z.union([z.literal(''), z.email({ message: 'must be an email address' })]),
    })
    .strict();
export type Letterhead = z.infer<ReturnType<typeof letterhead>>;

/**
 * A structure's settings (spec §3 and §5): the durations of the deadline rules in business days
 * (no-contact ones in calendar days), the digest's time, working hours, the observation's
 * small-count threshold, the retention period and whether managers and admins need a second
 * factor. Every field has the spec's default.
 */
export const settingsFields = z
  .object({
    followUpReminderDays: days(60),
    followUpEscalationDays: days(120),
    referralResponseDays: days(60),
    referralExpiryDays: days(120),
    loopClosingDays: days(120),
    noContactDays: days(365),
    noContactCloseDays: days(730),
    reportTriageDays: days(60),
    digestTime: time(),
    workingHours: z
      .object({ start: time(), end: time() })
      .strict()
      .refine((h) => h.start < h.end, { path: ['end'], message: 'must be after start' }),
    smallCountThreshold: z
      .number({ message: 'must be a whole number' })
      .int('must be a whole number')
      .min(2, 'must be at least 2')
      .max(100, 'must be at most 100'),
    retentionMonths: z
      .number({ message: 'must be a whole number of months' })
      .int('must be a whole number of months')
      .min(6, 'must be at least 6')
      .max(120, 'must be at most 120'),
    letterhead: letterhead(),
    /** Managers and admins must enrol a second factor (TOTP) before using the app. */
    requireTwoFactor: z.boolean({ message: 'must be true or false' }),
  })
  .strict();
export type StructureSettings = z.infer<typeof settingsFields>;

export const DEFAULT_SETTINGS: Readonly<StructureSettings> = Object.freeze({
  followUpReminderDays: 3,
  followUpEscalationDays: 10,
  referralResponseDays: 5,
  referralExpiryDays: 10,
  loopClosingDays: 10,
  noContactDays: 30,
  noContactCloseDays: 90,
  reportTriageDays: 5,
  digestTime: '08:30',
  workingHours: Object.freeze({ start: '08:30', end: '18:00' }),
  smallCountThreshold: 5,
  retentionMonths: 24,
  letterhead: Object.freeze({ name: '', addressLines: [], phone: '', email: '' }),
  requireTwoFactor: false,
});

/** Cross-field rules, named on the field a person would change. */
function checkOrder(s: StructureSettings, ctx: z.RefinementCtx) {
  if (s.followUpEscalationDays <= s.followUpReminderDays)
    ctx.addIssue({
      code: 'custom',
      path: ['followUpEscalationDays'],
      message: 'must be more than followUpReminderDays',
    });
  if (s.referralExpiryDays < s.referralResponseDays)
    ctx.addIssue({
      code: 'custom',
      path: ['referralExpiryDays'],
      message: 'must be at least referralResponseDays',
    });
  if (s.noContactCloseDays <= s.noContactDays)
    ctx.addIssue({
      code: 'custom',
      path: ['noContactCloseDays'],
      message: 'must be more than noContactDays',
    });
}

/** The whole settings object, checked together (after a PATCH is merged into what is stored). */
export const completeSettings = settingsFields.superRefine(checkOrder);

export const patchSettingsBody = settingsFields
  .partial()
  .extend({
    version: z
      .number({ message: 'must be the version you read' })
      .int()
      .min(1, 'must be a known version')
      .max(2147483647),
  })
  .strict()
  .refine((b) => Object.keys(b).some((k) => k !== 'version'), {
    path: ['version'],
    message: 'give at least one setting to change',
  });
export type PatchSettingsInput = z.infer<typeof patchSettingsBody>;

export const settingsView = settingsFields.extend({
  version: z.number().int(),
  updatedAt: z.iso.datetime().nullable(),
});
export interface SettingsView extends StructureSettings {
  version: number;
  updatedAt: Date | null;
}

/** Stored settings read leniently: a field missing or out of range takes its default. */
export function withDefaults(stored: unknown): StructureSettings {
  const given = stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, schema] of Object.entries(settingsFields.shape)) {
    const parsed = (schema as z.ZodType).safeParse(given[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  const all = completeSettings.safeParse(out);
  return all.success ? all.data : { ...DEFAULT_SETTINGS };
}
