import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { assertDates, atLatestNow, notInFuture } from '../../lib/date-rules';
import { BusinessRuleError, ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import type { OutboxWriter, UnitOfWork } from '../deadlines/outbox';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { IdempotencyService } from '../idempotency/idempotency-service';
import type { PartnerDirectory } from '../partners/partner-service';
import type { PersonService } from '../persons/person-service';
import { type ConsentRepository, type Consent } from './consent-repository';
import { consentRefusal } from './consent-validity';
import type { CreateConsentInput } from './consent-schemas';

export interface ConsentServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  persons: Pick<
    PersonService,
    'lockInScope' | 'lockForWrite' | 'exists' | 'touch' | 'moveReferent'
  >;
  partners: Pick<PartnerDirectory, 'exists'>;
  clock: Clock;
  /** Cancels the partner's open referrals of the person, in the revoking transaction. */
  onReferralConsentRevoked(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    pair: { personId: string; partnerId: string },
  ): Promise<string[]>;
  consents: ConsentRepository;
  idempotency: Pick<IdempotencyService, 'once'>;
}

export function createConsentService(deps: ConsentServiceDeps) {
  const { audit } = deps;
  const { consents } = deps;
  const { knex, uow, persons, partners, clock, idempotency } = deps;
  const REFUSALS = {
    consent_revoked:
      'The person revoked their consent to be referred to this partner; record a new consent first',
    consent_expired:
      "The person's consent to be referred to this partner has expired; record a new consent first",
    consent_required:
      'No valid consent of this person to be referred to this partner: record it first (POST /api/persons/:id/consents with purpose "referral")',
  } as const;

  return {
    /**
     * The person's newest valid consent to be referred to the partner, inside the caller's
     * transaction at `now`; without one, a 422 saying why (revoked, expired, or never given).
     */
    async validForReferral(
      trx: Knex.Transaction,
      structureId: string,
      personId: string,
      partnerId: string,
      now: Date,
    ): Promise<Consent> {
      const consent = await consents.validForReferral(trx, structureId, personId, partnerId, now);
      if (consent) return consent;
      const latest = await consents.latestForReferral(trx, structureId, personId, partnerId);
      const code = consentRefusal(latest, now);
      throw new BusinessRuleError(code, REFUSALS[code]);
    },

    /** Records a consent; once per idempotency key: a repeat answers the one the first made. */
    async record(
      actor: Actor,
      personId: string,
      input: CreateConsentInput,
      ctx: RequestContext,
    ): Promise<Consent> {
      assertDates(notInFuture('givenAt', input.givenAt, clock.now()));
      const read = async (trx: Knex.Transaction, id: string) => {
        const consent = await consents.findById(trx, actor.structureId, id, clock.now());
        if (!consent) throw new NotFoundError('Consent');
        return consent;
      };
      return uow((trx) =>
        idempotency.once(trx, actor, ctx, {
          action: 'consent.create',
          input: { personId, ...input },
          async create() {
            await persons.lockInScope(trx, actor, personId);
            const now = clock.now();
            if (input.partnerId && !(await partners.exists(trx, input.partnerId))) {
              throw new ValidationError('Invalid body: partnerId: unknown partner', [
                { field: 'partnerId', message: 'is not a partner of the directory' },
              ]);
            }
            if (input.expiresAt && input.expiresAt <= now)
              throw new BusinessRuleError(
                'consent_expired',
                'This consent would already be expired',
              );
            const id = await consents.insert(trx, actor.structureId, {
              personId,
              purpose: input.purpose,
              partnerId: input.partnerId ?? null,
              method: input.method,
              sharedFields:
                input.purpose === 'referral' ? [...new Set(input.sharedFields ?? [])] : [],
              givenAt: atLatestNow(input.givenAt, now),
              expiresAt: input.expiresAt ?? null,
              recordedBy: actor.id,
            });
            await persons.touch(trx, actor.structureId, personId, now);
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'consent.create',
              subjectType: 'person',
              subjectId: personId,
              ip: ctx.ip,
              details: {
                consentId: id,
                purpose: input.purpose,
                partnerId: input.partnerId ?? null,
              },
            });
            return read(trx, id);
          },
          keep: (c) => ({ consentId: c.id }),
          replay: ({ consentId }) => read(trx, consentId),
        }),
      );
    },

    /** One consent of the structure (as the page asking to confirm a withdrawal shows it). */
    async get(actor: Actor, consentId: string, ctx: RequestContext): Promise<Consent> {
      const consent = await consents.findById(knex, actor.structureId, consentId, clock.now());
      if (!consent) throw new NotFoundError('Consent');
      await audit.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'consent.read',
        subjectType: 'person',
        subjectId: consent.personId,
        ip: ctx.ip,
        details: { consentId },
      });
      return consent;
    },

    async list(actor: Actor, personId: string, ctx: RequestContext) {
      if (!(await persons.exists(knex, actor.structureId, personId)))
        throw new NotFoundError('Person');
      const items = await consents.listForPerson(knex, actor.structureId, personId, clock.now());
      // Which partners the person agreed to, and what they share: a read of the person's file.
      await audit.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'consent.list',
        subjectType: 'person',
        subjectId: personId,
        ip: ctx.ip,
        details: { ids: items.map((c) => c.id) },
      });
      return { items, total: items.length, page: 1, pageSize: items.length };
    },

    /**
     * Revocation is immediate and acts on the person × partner pair, not on one row: the
     * person withdraws their agreement to be referred to this partner. Every referral consent of
     * the pair still standing is revoked (an older, still valid one would otherwise keep the
     * referral door open and the partner's view alive), the partner's open referrals of the
     * person are cancelled whichever consent they were made under, and the partner no longer
     * sees the person, all in one transaction. Recording several consents for one partner stays
     * allowed, since renewing one (a new expiry, other shared details) is a normal act.
     */
    async revoke(
      actor: Actor,
      consentId: string,
      ctx: RequestContext,
    ): Promise<Consent & { cancelledReferralIds: string[]; revokedConsentIds: string[] }> {
      return uow(async (trx, outbox) => {
        const found = await consents.findRecord(trx, actor.structureId, consentId);
        if (!found) throw new NotFoundError('Consent');
        // The person first, as a referral creation does: a referral being created for the pair
        // either commits before this revocation (and is cancelled by it) or sees it (422).
        if (!(await persons.lockForWrite(trx, actor.structureId, found.personId)))
          throw new NotFoundError('Consent');
        const now = clock.now();
        let revokedIds: string[];
        if (found.purpose === 'referral' && found.partnerId) {
          const pair = await consents.lockUnrevokedForPair(
            trx,
            actor.structureId,
            found.personId,
            found.partnerId,
          );
          if (!pair.some((c) => c.id === consentId))
            throw new ConflictError('This consent is already revoked');
          revokedIds = pair.map((c) => c.id);
        } else {
          const row = await consents.lock(trx, actor.structureId, consentId);
          if (!row || row.revokedAt) throw new ConflictError('This consent is already revoked');
          revokedIds = [consentId];
        }
        await consents.revoke(trx, actor.structureId, revokedIds, actor.id, now);
        const cancelled =
          found.purpose === 'referral' && found.partnerId
            ? await deps.onReferralConsentRevoked(trx, outbox, actor, {
                personId: found.personId,
                partnerId: found.partnerId,
              })
            : [];
        await persons.touch(trx, actor.structureId, found.personId, now);
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'consent.revoke',
          subjectType: 'person',
          subjectId: found.personId,
          ip: ctx.ip,
          details: { consentId, revokedConsentIds: revokedIds, cancelledReferralIds: cancelled },
        });
        const consent = (await consents.findById(trx, actor.structureId, consentId, now))!;
        return { ...consent, cancelledReferralIds: cancelled, revokedConsentIds: revokedIds };
      });
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
