import { z } from 'zod';
import { expectedVersion, plainString } from '../../lib/validate';

/** "HH:MM", 00:00 to 23:59. */
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const time = () => z.string().regex(TIME, 'must be a time HH:MM');
const days = (max: number) =>
  z
    .number({ message: 'must be a whole number of days' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);

/** How long audit events are kept (CNIL référentiel for social action): fixed, not a setting. */
export const AUDIT_RETENTION_MONTHS = 12;

/** RGAA conformity levels, as the accessibility statement and every page's footer say them. */
export const ACCESSIBILITY_LEVELS = [
  'non_conforme',
  'partiellement_conforme',
  'totalement_conforme',
] as const;
export type AccessibilityLevel = (typeof ACCESSIBILITY_LEVELS)[number];

/** A text of the legal pages: empty means not given yet (the page says so). */
const legalText = (max: number) =>
  z.string({ message: 'must be a text' }).trim().max(max, `must be at most ${max} characters`);
const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * What the legal pages (accessibilité, mentions légales, données personnelles) say that only the
 * structure knows; the rest is the same for every structure (server/web/legal).
 */
const legalFields = {
  publisherAddress: legalText(500).meta({
    description: "Mentions légales: the structure's postal address (the publisher)",
  }),
  publicationDirector: legalText(200).meta({
    description: 'Mentions légales: the director of publication (name and position)',
  }),
  hostingProvider: legalText(500).meta({
    description: 'Mentions légales: the host (name, address, phone)',
  }),
  accessibilityLevel: z
    .enum(ACCESSIBILITY_LEVELS, { message: 'must be one of ' + ACCESSIBILITY_LEVELS.join(', ') })
    .meta({ description: 'RGAA conformity, from an audit; non_conforme without one' }),
  accessibilityAuditDate: z
    .union([z.literal(''), z.string().regex(DAY, 'must be a date YYYY-MM-DD')])
    .meta({ description: 'Date of the RGAA audit (YYYY-MM-DD), empty without one' }),
  accessibilityIssues: legalText(5000).meta({
    description: "Non-conformities found by the structure's audit, beyond those of the software",
  }),
  accessibilityContact: legalText(300).meta({
    description: 'Where to report an accessibility problem (email address or web page)',
  }),
  dpoContact: legalText(300).meta({
    description: "Données personnelles: the data protection officer's contact (DPO)",
  }),
};

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
 * (no-contact ones in calendar days), the digest's time, the business calendar (working hours,
 * Alsace-Moselle's holidays), the observation's
 * small-count threshold, the retention period, whether managers and admins need a second factor
 * and what its legal pages say. Every field has a default.
 */
export const settingsFields = z
  .object({
    followUpReminderDays: days(60),
    followUpEscalationDays: days(120).meta({ description: 'More than followUpReminderDays' }),
    referralResponseDays: days(60),
    referralExpiryDays: days(120).meta({ description: 'At least referralResponseDays' }),
    loopClosingDays: days(120),
    noContactDays: days(365),
    noContactCloseDays: days(730).meta({ description: 'More than noContactDays' }),
    reportTriageDays: days(60),
    digestTime: time().meta({
      description: 'Within workingHours: from its start, before its end',
    }),
    workingHours: z
      .object({ start: time(), end: time() })
      .strict()
      .refine((h) => h.start < h.end, { path: ['end'], message: 'must be after start' })
      .meta({ description: 'Working hours of the business calendar: end after start' }),
    alsaceMoselle: z.boolean({ message: 'must be true or false' }).meta({
      description:
        "The business calendar also keeps Alsace-Moselle's public holidays (Good Friday, 26 December)",
    }),
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
    ...legalFields,
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
  alsaceMoselle: false,
  smallCountThreshold: 5,
  retentionMonths: 24,
  letterhead: Object.freeze({ name: '', addressLines: [], phone: '', email: '' }),
  requireTwoFactor: false,
  publisherAddress: '',
  publicationDirector: '',
  hostingProvider: '',
  // No audit yet: RGAA says "non conforme" until one is made.
  accessibilityLevel: 'non_conforme',
  accessibilityAuditDate: '',
  accessibilityIssues: '',
  accessibilityContact: '',
  dpoContact: '',
});

/** A setting's name. */
export type SettingName = keyof StructureSettings;

/**
 * The settings a structure's business calendar is made of: every deadline placed in business
 * days or at a working moment depends on them, besides its own durations.
 */
export const CALENDAR_SETTINGS: readonly SettingName[] = ['workingHours', 'alsaceMoselle'];

/** The settings whose value differs between two versions (compared as their JSON). */
export function changedSettings(
  before: StructureSettings,
  after: StructureSettings,
): Set<SettingName> {
  const names = Object.keys(settingsFields.shape) as SettingName[];
  return new Set(names.filter((n) => JSON.stringify(before[n]) !== JSON.stringify(after[n])));
}

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
  // A partner user's digest email is never sent out of working hours: at a digest time outside
  // them, partners would get none at all. ("HH:MM" strings compare as the times they are.)
  if (s.digestTime < s.workingHours.start || s.digestTime >= s.workingHours.end)
    ctx.addIssue({
      code: 'custom',
      path: ['digestTime'],
      message: 'must be within workingHours (from start, before end)',
    });
}

/** The whole settings object, checked together (after a PATCH is merged into what is stored). */
export const completeSettings = settingsFields.superRefine(checkOrder);

export const patchSettingsBody = settingsFields
  .partial()
  .extend({
    version: expectedVersion('settings'),
    confirmRetention: z.boolean({ message: 'must be true or false' }).optional().meta({
      description:
        'Confirms a shorter retentionMonths that anonymises files (or clears reports) at the next nightly run: without it, such a change is a 422 retention_confirmation_required counting them',
    }),
  })
  .strict()
  .refine((b) => Object.keys(b).some((k) => k !== 'version' && k !== 'confirmRetention'), {
    path: ['version'],
    message: 'give at least one setting to change',
  });
export type PatchSettingsInput = z.infer<typeof patchSettingsBody>;

/**
 * The details of a 422 `retention_confirmation_required`: the shorter period asked for, the one
 * in force, and what the next run would anonymise and clear with it (the dry run, counted).
 */
export interface RetentionConfirmation {
  retentionMonths: number;
  currentRetentionMonths: number;
  persons: number;
  reports: number;
}

export const settingsView = settingsFields.extend({
  version: z.number().int(),
  updatedAt: z.iso.datetime().nullable(),
});
export interface SettingsView extends StructureSettings {
  version: number;
  updatedAt: Date | null;
}

/**
 * withDefaults' answers by the stored settings' JSON text, frozen (as DEFAULT_SETTINGS is): every
 * signed-in request reads its structure's settings (the second factor's gate, a page's footer),
 * about 50 µs of schema checks each, and a structure's settings seldom change. The same text is
 * the same settings because what is read is JSON (a jsonb column, as every caller passes): a
 * value JSON cannot hold (a Date, a BigInt) has no place here. Emptied at MEMO_MAX texts.
 */
const readBefore = new Map<string, Readonly<StructureSettings>>();
const MEMO_MAX = 1000;

/** Freezes every object and array in `value`, those inside an already frozen one included. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Stored settings read leniently: a field missing or out of range takes its default. */
export function withDefaults(stored: unknown): Readonly<StructureSettings> {
  const text = JSON.stringify(stored ?? null);
  const known = readBefore.get(text);
  if (known) return known;
  const settings = deepFreeze(readLeniently(stored));
  if (readBefore.size >= MEMO_MAX) readBefore.clear();
  readBefore.set(text, settings);
  return settings;
}

function readLeniently(stored: unknown): StructureSettings {
  const given = stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, schema] of Object.entries(settingsFields.shape)) {
    const parsed = (schema as z.ZodType).safeParse(given[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  const all = completeSettings.safeParse(out);
  return all.success ? all.data : { ...DEFAULT_SETTINGS };
}
