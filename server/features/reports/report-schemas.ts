import { z } from 'zod';
import { paging, plainString, uuid } from '../../lib/validate';

/** Where a report came from: the public form, or a partner's signed-in form. */
export const REPORT_CHANNELS = ['public', 'partner'] as const;
export type ReportChannel = (typeof REPORT_CHANNELS)[number];

export const TRIAGE_ACTIONS = ['create_person', 'link', 'dismiss'] as const;
export type TriageAction = (typeof TRIAGE_ACTIONS)[number];

/** A report's status, derived from its triage (report-status.ts), never typed by hand. */
export const REPORT_STATUSES = ['pending', 'person_created', 'linked', 'dismissed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** The deadline of a report left untriaged: the structure's managers are told. */
export const REPORT_ESCALATE = 'report.escalate';
/** The notification it leaves. */
export const NOTIFY_REPORT_ESCALATED = 'report.escalated';

/** Lengths: a report is free text from strangers, bounded before it reaches the database. */
export const REPORT_LIMITS = {
  location: 200,
  who: 120,
  concern: 2000,
  reporterContact: 200,
  reason: 1000,
} as const;

const text = (max: number) =>
  plainString().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const optionalText = (max: number) =>
  z
    .union([z.literal(''), text(max)])
    .optional()
    .transform((v) => v || undefined);

const reportFields = {
  location: text(REPORT_LIMITS.location).meta({
    description: 'Where the person was seen or stays ("parvis de la médiathèque")',
  }),
  who: optionalText(REPORT_LIMITS.who).meta({
    description: 'Who: a short description ("homme ~50 ans, chien noir"); becomes the alias',
  }),
  concern: text(REPORT_LIMITS.concern).meta({ description: 'What is worrying' }),
};

export const publicReportBody = z
  .object({
    ...reportFields,
    reporterContact: optionalText(REPORT_LIMITS.reporterContact).meta({
      description: 'How to reach the reporter, if they wish (optional)',
    }),
    website: plainString().max(500, 'must be at most 500 characters').optional().meta({
      description: 'Honeypot: must stay empty (a filled one is answered 202 and not stored)',
    }),
  })
  .strict();
export type PublicReportInput = z.infer<typeof publicReportBody>;

/** A partner's report: the partner is its author and the contact, so no reporter contact. */
export const partnerReportBody = z.object(reportFields).strict();
export type PartnerReportInput = z.infer<typeof partnerReportBody>;

export const structureSlugParams = z
  .object({
    structure: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]{0,62}$/,
        'must be a structure slug (lowercase letters, digits, -)',
      ),
  })
  .strict();

export const reportIdParams = z.object({ id: uuid() }).strict();

export const listReportsQuery = z
  .object({
    status: z
      .enum(REPORT_STATUSES, { message: 'must be one of ' + REPORT_STATUSES.join(', ') })
      .optional()
      .meta({ description: 'pending: waiting triage (oldest first); others: newest first' }),
    ...paging,
  })
  .strict();
export type ListReportsQuery = z.infer<typeof listReportsQuery>;

export const sentReportsQuery = z.object({ ...paging }).strict();

export const triageBody = z
  .object({
    action: z.enum(TRIAGE_ACTIONS, { message: 'must be one of ' + TRIAGE_ACTIONS.join(', ') }),
    personId: uuid().optional().meta({ description: 'The person to link to: with link, only' }),
    reason: optionalText(REPORT_LIMITS.reason).meta({
      description: 'Why it is dismissed: required with dismiss; a note otherwise',
    }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.action === 'link' && !b.personId)
      ctx.addIssue({ code: 'custom', path: ['personId'], message: 'is required to link' });
    if (b.action !== 'link' && b.personId)
      ctx.addIssue({ code: 'custom', path: ['personId'], message: 'is only for link' });
    if (b.action === 'dismiss' && !b.reason)
      ctx.addIssue({ code: 'custom', path: ['reason'], message: 'is required to dismiss' });
  });
export type TriageInput = z.infer<typeof triageBody>;

/* Response bodies, for the OpenAPI document. */

const at = () => z.iso.datetime();

export const receiptView = z
  .object({
    receiptNumber: z.string().meta({ description: 'To quote when calling the structure' }),
    receivedAt: at(),
  })
  .strict()
  .meta({ id: 'ReportReceipt', description: 'What the reporter keeps: no personal data' });

export const sentReportView = z
  .object({
    id: z.uuid(),
    receiptNumber: z.string(),
    createdAt: at(),
    handled: z.boolean().meta({ description: 'Whether a worker has triaged it' }),
  })
  .strict()
  .meta({ id: 'SentReport', description: "A partner's own report: its receipt, nothing more" });

export const reportView = z
  .object({
    id: z.uuid(),
    receiptNumber: z.string(),
    channel: z.enum(REPORT_CHANNELS),
    authorName: z.string().nullable(),
    location: z.string(),
    who: z.string().nullable(),
    concern: z.string(),
    reporterContact: z.string().nullable(),
    createdAt: at(),
    status: z.enum(REPORT_STATUSES),
    triageDueAt: at().nullable().meta({
      description: 'When the managers are told if it is still waiting (null once triaged)',
    }),
    triagedAt: at().nullable(),
    triagedByName: z.string().nullable(),
    triageAction: z.enum(TRIAGE_ACTIONS).nullable(),
    personId: z.uuid().nullable(),
    triageReason: z.string().nullable(),
  })
  .strict()
  .meta({ id: 'Report', description: 'A report (signalement) and its triage' });
