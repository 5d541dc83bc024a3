import { z } from 'zod';
import { isoDateTime, uuid } from '../../lib/validate';

const CONSENT_PURPOSES = ['referral', 'sms_contact', 'email_contact'] as const;
export const CONSENT_METHODS = ['oral', 'written'] as const;
/** Contact details a person may agree to share with a partner. */
export const SHAREABLE_FIELDS = ['phone', 'email', 'address'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
export type ShareableField = (typeof SHAREABLE_FIELDS)[number];

export const createConsentBody = z
  .object({
    purpose: z.enum(CONSENT_PURPOSES, { message: 'must be one of ' + CONSENT_PURPOSES.join(', ') }),
    partnerId: uuid()
      .optional()
      .meta({ description: 'Required with purpose referral, and only then' }),
    method: z.enum(CONSENT_METHODS, { message: 'must be one of ' + CONSENT_METHODS.join(', ') }),
    givenAt: isoDateTime(),
    expiresAt: isoDateTime()
      .optional()
      .meta({ description: 'When the consent ends; must be after givenAt (else 400 naming it)' }),
    sharedFields: z.array(z.enum(SHAREABLE_FIELDS)).max(3).optional(),
  })
  .strict()
  .refine((c) => c.purpose !== 'referral' || c.partnerId, {
    path: ['partnerId'],
    message: 'is required for a referral consent',
  })
  .refine((c) => c.purpose === 'referral' || !c.partnerId, {
    path: ['partnerId'],
    message: 'is only for a referral consent',
  })
  .refine((c) => !c.expiresAt || c.expiresAt > c.givenAt, {
    path: ['expiresAt'],
    message: 'must be after givenAt',
    // Named, so that a page says this rule in its own words (`expiresAt:expires_before_given`).
    params: { rule: 'expires_before_given' },
  });
export type CreateConsentInput = z.infer<typeof createConsentBody>;

export const consentParams = z.object({ id: uuid() }).strict();
export const personParams = z.object({ id: uuid() }).strict();

/* Response bodies, for the OpenAPI document. */

export const consentView = z
  .object({
    id: z.uuid(),
    personId: z.uuid(),
    purpose: z.enum(CONSENT_PURPOSES),
    partnerId: z.uuid().nullable(),
    partnerName: z.string().nullable(),
    method: z.enum(CONSENT_METHODS),
    sharedFields: z.array(z.enum(SHAREABLE_FIELDS)),
    givenAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
    recordedBy: z.uuid().nullable(),
    createdAt: z.iso.datetime(),
    valid: z.boolean().meta({ description: 'Not revoked, given and not expired now' }),
  })
  .strict()
  .meta({ id: 'Consent', description: 'A consent of the person, per purpose and partner' });

export const revokedConsentView = consentView
  .extend({
    revokedConsentIds: z.array(z.uuid()).meta({
      description: 'Every referral consent of the person for that partner revoked with this one',
    }),
    cancelledReferralIds: z.array(z.uuid()).meta({
      description: "The person's open referrals to that partner, cancelled (consent_revoked)",
    }),
  })
  .strict()
  .meta({
    id: 'RevokedConsent',
    description: 'The revoked consent, what it revoked with it and the referrals it cancelled',
  });
