import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { ConflictError, NotFoundError } from '../../lib/errors';
import { auditRepository, type RequestContext } from '../audit/audit-repository';
import { partnerRepository, type Partner } from './partner-repository';
import type {
  CreatePartnerInput,
  ListPartnersQuery,
  ServiceInput,
  UpdatePartnerInput,
} from './partner-schemas';

/** The partner directory: read by staff, maintained by administrators. */
export function createPartnerDirectory(deps: { knex: Knex; clock: Clock }) {
  const { knex, clock } = deps;
  return {
    async list(q: ListPartnersQuery) {
      const items = await partnerRepository.list(knex, clock.now(), q);
      return { items, total: items.length, page: 1, pageSize: items.length };
    },

    async get(id: string): Promise<Partner> {
      const p = await partnerRepository.findById(knex, id, clock.now());
      if (!p) throw new NotFoundError('Partner');
      return p;
    },

    async create(actor: Actor, input: CreatePartnerInput, ctx: RequestContext): Promise<Partner> {
      const names = input.services.map((s) => s.name.toLowerCase());
      if (new Set(names).size !== names.length)
        throw new ConflictError('Two services of this partner have the same name');
      return knex.transaction(async (trx) => {
        const id = await partnerRepository.insert(trx, input, clock.now());
        await auditRepository.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.create',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
        });
        return (await partnerRepository.findById(trx, id, clock.now()))!;
      });
    },

    /** A partner's new description (whole); editing it counts as reviewing it. */
    async update(
      actor: Actor,
      id: string,
      input: UpdatePartnerInput,
      ctx: RequestContext,
    ): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        if (!(await partnerRepository.update(trx, id, input, now)))
          throw new NotFoundError('Partner');
        await auditRepository.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.update',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
        });
        return (await partnerRepository.findById(trx, id, now))!;
      });
    },

    /** Adds a service, or updates one (whole) when `serviceId` is given; names stay unique. */
    async saveService(
      actor: Actor,
      partnerId: string,
      serviceId: string | null,
      input: ServiceInput,
      ctx: RequestContext,
    ): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        // The partner row lock serialises two saves of one partner's services.
        if (!(await partnerRepository.lock(trx, partnerId))) throw new NotFoundError('Partner');
        // An unknown service is a 404 even when its new name is taken.
        if (serviceId && !(await partnerRepository.hasService(trx, partnerId, serviceId)))
          throw new NotFoundError('Service');
        if (
          await partnerRepository.serviceNameTaken(
            trx,
            partnerId,
            input.name,
            serviceId ?? undefined,
          )
        )
          throw new ConflictError('Another service of this partner has this name');
        let id = serviceId;
        if (id) await partnerRepository.updateService(trx, partnerId, id, input, now);
        else id = await partnerRepository.insertService(trx, partnerId, input, now);
        await auditRepository.record(trx, {
          actor,
          structureId: actor.structureId,
          action: serviceId ? 'partner.service.update' : 'partner.service.create',
          subjectType: 'partner',
          subjectId: partnerId,
          ip: ctx.ip,
          details: { serviceId: id },
        });
        return (await partnerRepository.findById(trx, partnerId, now))!;
      });
    },

    /** The review and its audit event commit together, or neither does. */
    async review(actor: Actor, id: string, ctx: RequestContext): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        if (!(await partnerRepository.markReviewed(trx, id, now)))
          throw new NotFoundError('Partner');
        await auditRepository.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.review',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
        });
        return (await partnerRepository.findById(trx, id, now))!;
      });
    },
  };
}

export type PartnerDirectory = ReturnType<typeof createPartnerDirectory>;
