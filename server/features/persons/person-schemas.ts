import { z } from 'zod';
import { emailAddress } from '../../lib/email-address';
import { isoDateTime, paging, plainString, uuid } from '../../lib/validate';
import { contactView } from '../contacts/contact-schemas';
import { followUpView } from '../follow-ups/follow-up-schemas';
import { referralView } from '../referrals/referral-schemas';
import { reportView } from '../reports/report-schemas';
import {
  NON_TAKE_UP_REASONS,
  RIGHT_STATUSES,
  personRightChangeView,
  rightCode,
} from '../rights/right-schemas';

export const PERSON_SOURCES = [
  'outreach',
  'partner',
  'neighbour',
  'citizen_report',
  'institution',
  'self',
  'elected_official',
] as const;
export type PersonSource = (typeof PERSON_SOURCES)[number];
/** How a person was identified, in French: pages and the observation's rows and CSV. */
export const SOURCE_LABELS: Readonly<Record<string, string>> = {
  outreach: 'Aller-vers (maraude, rue)',
  partner: 'Partenaire',
  neighbour: 'Voisinage',
  citizen_report: 'Signalement citoyen',
  institution: 'Institution',
  self: 'La personne elle-même',
  elected_official: 'Élu·e',
} satisfies Record<PersonSource, string>;
export const PATH_STATUSES = [
  'identified',
  'in_contact',
  'supported',
  'resolved',
  'closed',
] as const;
export type PathStatus = (typeof PATH_STATUSES)[number];
export const GENDERS = ['female', 'male', 'other', 'unknown'] as const;
export const HOUSEHOLD_TYPES = [
  'single',
  'couple',
  'single_parent',
  'couple_with_children',
  'other',
] as const;

/** The largest PostgreSQL integer: a bigger number would fail in the database, not here. */
const INT_MAX = 2147483647;

const text = (max: number) => plainString().trim().min(1, 'must not be empty').max(max);
const nullable = <T extends z.ZodType>(s: T) => s.nullable().optional();

/** A phone number as people type it. */
const phoneNumber = () =>
  z
    .string()
    .trim()
    .regex(/^[+0-9 ().-]{6,25}$/, 'must be a phone number');

const personFields = {
  alias: nullable(text(120)),
  firstName: nullable(text(120)),
  lastName: nullable(text(120)),
  // From 1900 to the current year: a rule of the clock, checked by the service (date-rules).
  birthYear: nullable(z.number().int().min(-INT_MAX).max(INT_MAX)),
  gender: nullable(z.enum(GENDERS)),
  phone: nullable(phoneNumber()),
  email: nullable(emailAddress()),
  address: nullable(text(500)),
  /** Where the person was met or usually stays: searched like the alias. */
  place: nullable(text(200)),
  districtId: nullable(uuid()),
  householdType: nullable(z.enum(HOUSEHOLD_TYPES)),
  situation: nullable(z.string().max(10000)),
  referentId: nullable(uuid()),
  pauseReminders: z.boolean().optional(),
};

/** A new file needs one of these: an alias to start nearly anonymous, or a name. */
const NAME_FIELDS = ['alias', 'firstName', 'lastName'] as const;

export const createPersonBody = z
  .object({
    ...personFields,
    source: z.enum(PERSON_SOURCES, { message: 'must be one of ' + PERSON_SOURCES.join(', ') }),
  })
  .strict()
  .refine((p) => p.alias || p.firstName || p.lastName, {
    path: ['alias'],
    message: 'an alias or a name is required',
  })
  .meta({
    description: 'An alias or a name (firstName or lastName) is required, else 400 naming alias',
    // The refine above, as JSON Schema: one of the three present as a string (not null).
    anyOf: NAME_FIELDS.map((f) => ({ required: [f], properties: { [f]: { type: 'string' } } })),
  });
export type CreatePersonInput = z.infer<typeof createPersonBody>;

export const updatePersonBody = z
  .object({
    ...personFields,
    source: z.enum(PERSON_SOURCES).optional(),
    closedReason: nullable(
      z.enum(['moved', 'refused', 'deceased', 'no_contact', 'resolved', 'other']),
    ),
    version: z.number().int().min(1, 'is required').max(INT_MAX, 'is not a known version'),
  })
  .strict();
export type UpdatePersonInput = z.infer<typeof updatePersonBody>;

export const searchPersonsQuery = z
  .object({
    q: plainString().trim().max(100).optional(),
    status: z.enum(PATH_STATUSES).optional(),
    district: uuid().optional(),
    referentId: z.union([uuid(), z.literal('me')]).optional(),
    right: rightCode().optional().meta({ description: 'Persons tracking this right (its code)' }),
    rightStatus: z
      .enum(RIGHT_STATUSES)
      .optional()
      .meta({ description: 'Persons with a right in this status (the right given, that one)' }),
    reason: z
      .enum(NON_TAKE_UP_REASONS)
      .optional()
      .meta({ description: 'Persons with a right not claimed for this Odenore reason' }),
    ...paging,
  })
  .strict();
export type SearchPersonsQuery = z.infer<typeof searchPersonsQuery>;

/** What may tell a person already known apart: any of these, empty ones ignored. */
const DUPLICATE_CRITERIA = ['alias', 'firstName', 'lastName', 'place', 'birthYear', 'phone'];

export const duplicatesQuery = z
  .object({
    alias: plainString().trim().max(120).optional(),
    firstName: plainString().trim().max(120).optional(),
    lastName: plainString().trim().max(120).optional(),
    place: plainString().trim().max(200).optional(),
    birthYear: z
      .union([
        z.literal(''),
        z.coerce
          .number()
          .int('must be a year')
          .min(1900, 'must be 1900 or later')
          .max(2100, 'must be 2100 or earlier'),
      ])
      .optional(),
    phone: z.union([phoneNumber(), z.literal('')]).optional(),
  })
  .strict()
  .refine((q) => DUPLICATE_CRITERIA.some((k) => q[k as keyof typeof q]), {
    path: ['alias'],
    message: 'give at least one of ' + DUPLICATE_CRITERIA.join(', '),
  });
export type DuplicatesQuery = z.infer<typeof duplicatesQuery>;

export const DUPLICATE_REASON_FIELDS = ['name', 'alias', 'place', 'birthYear', 'phone'] as const;
export type DuplicateReasonField = (typeof DUPLICATE_REASON_FIELDS)[number];

export const mergePersonBody = z
  .object({
    intoId: uuid().meta({ description: 'The file that is kept and receives everything' }),
    version: z
      .number()
      .int()
      .min(1, 'is required')
      .max(INT_MAX, 'is not a known version')
      .meta({ description: 'The version of the merged file (`:id`) the caller saw' }),
    intoVersion: z
      .number()
      .int()
      .min(1, 'is required')
      .max(INT_MAX, 'is not a known version')
      .meta({ description: 'The version of the kept file the caller saw' }),
  })
  .strict();
export type MergePersonInput = z.infer<typeof mergePersonBody>;

export const personIdParams = z.object({ id: uuid() }).strict();

export const timelineQuery = z.object({ ...paging }).strict();

export { isoDateTime };

/* Response bodies, for the OpenAPI document. */

const at = () => z.iso.datetime();

export const personView = z
  .object({
    id: z.uuid(),
    structureId: z.uuid(),
    alias: z.string().nullable(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    birthYear: z.number().int().nullable(),
    gender: z.enum(GENDERS).nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    address: z.string().nullable(),
    place: z.string().nullable(),
    districtId: z.uuid().nullable(),
    districtName: z.string().nullable(),
    districtQpv: z.boolean().nullable(),
    householdType: z.enum(HOUSEHOLD_TYPES).nullable(),
    source: z.enum(PERSON_SOURCES),
    referentId: z.uuid().nullable(),
    referentName: z.string().nullable(),
    pauseReminders: z.boolean(),
    situation: z.string().nullable(),
    status: z.enum(PATH_STATUSES).meta({ description: 'The path status, derived from events' }),
    closedAt: at().nullable(),
    closedReason: z.string().nullable(),
    anonymisedAt: at().nullable(),
    version: z.number().int().meta({ description: 'Send it back with a change (409 if stale)' }),
    lastActivityAt: at(),
    createdAt: at(),
    updatedAt: at(),
  })
  .strict()
  .meta({ id: 'Person', description: "A person file of the caller's structure" });

export const duplicateView = personView
  .extend({
    score: z.number().meta({ description: 'How alike, for the ranking (higher first)' }),
    reasons: z.array(
      z
        .object({
          field: z.enum(DUPLICATE_REASON_FIELDS),
          similarity: z.number().optional().meta({ description: 'From 0 to 1, for texts' }),
        })
        .strict(),
    ),
  })
  .strict()
  .meta({ id: 'DuplicateCandidate', description: 'A file that may be the same person, and why' });

const timelineItem = <T extends string>(type: T, data: z.ZodType) =>
  z.object({ type: z.literal(type), id: z.uuid(), at: at(), data }).strict();

/** One event of a person's timeline; `data` is the event as its own endpoint shows it. */
export const timelineItemView = z
  .discriminatedUnion('type', [
    timelineItem('contact', contactView),
    timelineItem('follow_up', followUpView),
    timelineItem('referral', referralView),
    timelineItem('right', personRightChangeView.extend({ personId: z.uuid() }).strict()),
    timelineItem('report', reportView),
  ])
  .meta({ id: 'TimelineItem' });
