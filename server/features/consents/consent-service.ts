import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { BusinessRuleError, ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import type { OutboxWriter, UnitOfWork } from '../../lib/unit-of-work';
import { auditRepository, type RequestContext } from '../audit/audit-repository';
import type { PersonRepository } from '../persons/person-repository';
import { consentRepository, type Consent } from './consent-repository';
import type { CreateConsentInput } from './consent-schemas';

export interface ConsentServiceDeps {
  knex: Knex;
  uow: UnitOfWork;
  persons: PersonRepository;
  clock: Clock;
  /** Cancels the partner's pending referrals of the person, in the revoking transaction. */
  onReferralConsentRevoked(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    consent: { id: string; personId: string; partnerId: string },
  ): Promise<string[]>;
}

export function createConsentService(deps: ConsentServiceDeps) {
  const { knex, uow, persons, clock } = deps;
  return {
    async record(
      actor: Actor,
      personId: string,
      input: CreateConsentInput,
      ctx: RequestContext,
    ): Promise<Consent> {
      return uow(async (trx) => {
        if (!(await persons.lock(trx, actor.structureId, personId)))
          throw new NotFoundError('Person');
        const now = clock.now();
        if (
          input.partnerId &&
          !(await trx('partners').where({ id: input.partnerId }).first('id'))
        ) {
          throw new ValidationError('Invalid body: partnerId: unknown partner', [
            { field: 'partnerId', message: 'is not a partner of the directory' },
          ]);
        }
        if (input.expiresAt && input.expiresAt <= now)
          throw new BusinessRuleError('consent_expired', 'This consent would already be expired');
        const id = await consentRepository.insert(trx, actor.structureId, {
          personId,
          purpose: input.purpose,
          partnerId: input.partnerId ?? null,
          method: input.method,
          sharedFields: input.purpose === 'referral' ? [...new Set(input.sharedFields ?? [])] : [],
          givenAt: input.givenAt,
          expiresAt: input.expiresAt ?? null,
          recordedBy: actor.id,
        });
        await persons.touch(trx, actor.structureId, personId, now);
        await auditRepository.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'consent.create',
          subjectType: 'person',
          subjectId: personId,
          ip: ctx.ip,
          details: { consentId: id, purpose: input.purpose, partnerId: input.partnerId ?? null },
        });
        return (await consentRepository.findById(trx, actor.structureId, id, now))!;
      });
    },

    async list(actor: Actor, personId: string) {
      if (!(await persons.exists(knex, actor.structureId, personId)))
        throw new NotFoundError('Person');
      const items = await consentRepository.listForPerson(
        knex,
        actor.structureId,
        personId,
        clock.now(),
      );
      return { items, total: items.length, page: 1, pageSize: items.length };
    },

    /**
     * Revocation is immediate: the partner's pending referrals of the person are cancelled and
     * the partner no longer sees the person, in the same transaction.
     */
    async revoke(
      actor: Actor,
      consentId: string,
      ctx: RequestContext,
    ): Promise<Consent & { cancelledReferralIds: string[] }> {
      return uow(async (trx, outbox) => {
        const row = await consentRepository.lock(trx, actor.structureId, consentId);
        if (!row) throw new NotFoundError('Consent');
        if (row.revoked_at) throw new ConflictError('This consent is already revoked');
        const now = clock.now();
        await consentRepository.revoke(trx, actor.structureId, consentId, actor.id, now);
        const cancelled =
          row.purpose === 'referral'
            ? await deps.onReferralConsentRevoked(trx, outbox, actor, {
                id: consentId,
                personId: row.person_id,
                partnerId: row.partner_id,
              })
            : [];
        await persons.touch(trx, actor.structureId, row.person_id, now);
        await auditRepository.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'consent.revoke',
          subjectType: 'person',
          subjectId: row.person_id,
          ip: ctx.ip,
          details: { consentId, cancelledReferralIds: cancelled },
        });
        const consent = (await consentRepository.findById(trx, actor.structureId, consentId, now))!;
        return { ...consent, cancelledReferralIds: cancelled };
      });
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
