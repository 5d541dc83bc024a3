import { z } from 'zod';
import { emailAddress } from '../../lib/email-address';
import { expectedVersion, oneLine, uuid } from '../../lib/validate';

/**
 * Top-level thematiques of the data·inclusion vocabulary; a service may name a sub-theme
 * ("equipement-et-alimentation--alimentation") under one of them.
 */
export const THEMES = [
  'acces-aux-droits-et-citoyennete',
  'accompagnement-social-et-professionnel-personnalise',
  'apprendre-francais',
  'choisir-un-metier',
  'creation-activite',
  'equipement-et-alimentation',
  'famille',
  'gestion-financiere',
  'handicap',
  'logement-hebergement',
  'mobilite',
  'numerique',
  'preparer-sa-candidature',
  'remobilisation',
  'sante',
  'se-former',
  'trouver-un-emploi',
] as const;

/** Publics of the data·inclusion vocabulary most met by a CCAS. */
export const AUDIENCES = [
  'tous-publics',
  'personnes-en-situation-de-handicap',
  'seniors-65',
  'familles-enfants',
  'jeunes-16-26',
  'beneficiaires-rsa',
  'demandeurs-emploi',
  'sans-domicile-fixe',
  'femmes',
  'public-langues-etrangeres',
] as const;

/** A partner or a service not reviewed for this long is stale and not offered for new referrals. */
export const STALE_AFTER_MONTHS = 6;

/** A sub-theme: a thematique of THEMES, "--", then the sub-theme's slug. */
const SUB_THEME = new RegExp(`^(${THEMES.join('|')})--[a-z0-9]+(-[a-z0-9]+)*$`);

/** A thematique of THEMES or one of its sub-themes: the API, the pages and the document agree. */
export const isTheme = (t: string) =>
  (THEMES as readonly string[]).includes(t) || (t.length <= 100 && SUB_THEME.test(t));

const theme = z
  .string()
  .refine(isTheme, {
    message:
      'must be a data·inclusion thematique (e.g. equipement-et-alimentation) or one of its sub-themes (equipement-et-alimentation--alimentation)',
  })
  .meta({
    description: 'A data·inclusion thematique, or one of its sub-themes: "thematique--sub-theme"',
    anyOf: [{ enum: [...THEMES] }, { pattern: SUB_THEME.source, maxLength: 100 }],
  });

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const serviceInput = z
  .object({
    name: oneLine(200),
    themes: z.array(theme).min(1, 'give at least one theme').max(20),
    audience: z.array(z.enum(AUDIENCES)).max(10).optional(),
    description: text(2000).optional(),
    area: oneLine(200).optional(),
    howToReach: oneLine(1000).optional(),
    /** Absent: the service sets no delay, and the referring structure's applies. */
    responseDelayDays: z.number().int().min(1).max(60).optional(),
  })
  .strict();
export type ServiceInput = z.infer<typeof serviceInput>;

export const createPartnerBody = z
  .object({
    name: oneLine(200),
    email: emailAddress(),
    phone: z
      .string()
      .trim()
      .regex(/^[+0-9 ().-]{6,25}$/, 'must be a phone number')
      .optional(),
    description: text(2000).optional(),
    area: oneLine(200).optional(),
    howToReach: oneLine(1000).optional(),
    // Shown as a link: only a web address, never javascript:, data: or the like.
    website: z
      .string()
      .trim()
      .pipe(z.url({ protocol: /^https?$/, message: 'must be an http(s) address' }).max(500))
      .optional(),
    services: z.array(serviceInput).max(50),
  })
  .strict();
export type CreatePartnerInput = z.infer<typeof createPartnerBody>;

/**
 * Editing a partner's description replaces it whole: an optional field left out is cleared.
 * Its services are edited one by one (serviceInput, also whole).
 */
export const updatePartnerBody = createPartnerBody
  .omit({ services: true })
  .extend({ version: expectedVersion('partner') });
export type UpdatePartnerInput = z.infer<typeof updatePartnerBody>;

/** A service added or changed on its own (whole); `version` when changing one. */
export const saveServiceBody = serviceInput.extend({ version: expectedVersion('service') });
export type SaveServiceInput = z.infer<typeof saveServiceBody>;

export const listPartnersQuery = z
  .object({
    theme: z.string().max(100).optional(),
    /** Only what can receive a new referral (not stale). */
    offerable: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
  })
  .strict();
export type ListPartnersQuery = z.infer<typeof listPartnersQuery>;

export const partnerParams = z.object({ id: uuid() }).strict();
export const partnerServiceParams = z.object({ id: uuid(), serviceId: uuid() }).strict();

/* Response bodies, for the OpenAPI document. */

const reviewed = {
  lastReviewedAt: z.iso.datetime(),
  stale: z.boolean().meta({
    description: `Not reviewed for ${STALE_AFTER_MONTHS} months: not offered for new referrals`,
  }),
};

export const partnerView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    email: z.string().meta({ description: 'The confirmed address every referral email goes to' }),
    pendingEmail: z.string().nullable().meta({
      description:
        'A new address given by an admin and not confirmed yet from it (an emailed link, 48 hours): nothing is sent there until then',
    }),
    phone: z.string().nullable(),
    description: z.string().nullable(),
    area: z.string().nullable(),
    howToReach: z.string().nullable(),
    website: z.string().nullable(),
    ...reviewed,
    version: z.number().int().meta({ description: 'Send it back with a change (409 if stale)' }),
    services: z.array(
      z
        .object({
          id: z.uuid(),
          partnerId: z.uuid(),
          name: z.string(),
          description: z.string().nullable(),
          themes: z.array(z.string()),
          audience: z.array(z.string()),
          area: z.string().nullable(),
          howToReach: z.string().nullable(),
          responseDelayDays: z.number().int().nullable().meta({
            description:
              "Business days the partner has to answer a referral to this service; null: the referring structure's referralResponseDays",
          }),
          ...reviewed,
          version: z
            .number()
            .int()
            .meta({ description: 'Send it back with a change (409 if stale)' }),
        })
        .strict()
        .meta({ id: 'PartnerService' }),
    ),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .strict()
  .meta({ id: 'Partner', description: 'A partner of the directory and its services' });
