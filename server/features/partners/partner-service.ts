import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { ConflictError, NotFoundError } from '../../lib/errors';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import { type PartnerRepository, type Partner } from './partner-repository';
import type {
  CreatePartnerInput,
  ListPartnersQuery,
  ServiceInput,
  UpdatePartnerInput,
} from './partner-schemas';

/**
 * The partner directory: read by the staff of every structure, maintained by the administrators
 * of the structure that owns each partner. A partner of another structure is not found (404), as
 * an unknown one is, for every change and for the edit pages.
 */
export function createPartnerDirectory(deps: {
  knex: Knex;
  clock: Clock;
  partners: PartnerRepository;
  audit: AuditTrail;
}) {
  const { audit } = deps;
  const { partners } = deps;
  const { knex, clock } = deps;
  return {
    /** Inside the caller's transaction: a partner of the directory as of `now`, or null. */
    findById: (db: Knex | Knex.Transaction, id: string, now: Date) =>
      partners.findById(db, id, now),
    exists: (db: Knex | Knex.Transaction, id: string) => partners.exists(db, id),
    nameOf: (db: Knex | Knex.Transaction, id: string) => partners.nameOf(db, id),
    /** The partner's enabled users, who are told of a new referral. */
    activeStaffIds: (db: Knex | Knex.Transaction, id: string) => partners.activeStaffIds(db, id),
    /** Whether the partner belongs to the structure (its admins create the partner's users). */
    ownedBy: async (db: Knex | Knex.Transaction, structureId: string, id: string) =>
      (await partners.ownedIds(db, structureId)).includes(id),

    async list(q: ListPartnersQuery) {
      const items = await partners.list(knex, clock.now(), q);
      return { items, total: items.length, page: 1, pageSize: items.length };
    },

    async get(id: string): Promise<Partner> {
      const p = await partners.findById(knex, id, clock.now());
      if (!p) throw new NotFoundError('Partner');
      return p;
    },

    /** A partner the admin's structure owns, to edit; NotFoundError for any other. */
    async getToEdit(actor: Actor, id: string): Promise<Partner> {
      const p = await partners.findOwned(knex, id, actor.structureId, clock.now());
      if (!p) throw new NotFoundError('Partner');
      return p;
    },

    /** The ids of the partners the admin's structure owns (and so may edit). */
    async editableIds(actor: Actor): Promise<Set<string>> {
      return new Set(await partners.ownedIds(knex, actor.structureId));
    },

    /** The new partner belongs to the admin's structure. */
    async create(actor: Actor, input: CreatePartnerInput, ctx: RequestContext): Promise<Partner> {
      const names = input.services.map((s) => s.name.toLowerCase());
      if (new Set(names).size !== names.length)
        throw new ConflictError('Two services of this partner have the same name');
      return knex.transaction(async (trx) => {
        const id = await partners.insert(trx, actor.structureId, input, clock.now());
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.create',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
        });
        return (await partners.findById(trx, id, clock.now()))!;
      });
    },

    /**
     * A partner's new description (whole); editing it counts as reviewing it. A new email
     * redirects the signed links of open referrals from other structures too, so the event is
     * also written in the audit trail of each of them (no personal data in its details).
     */
    async update(
      actor: Actor,
      id: string,
      input: UpdatePartnerInput,
      ctx: RequestContext,
    ): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        const updated = await partners.update(trx, id, actor.structureId, input, now);
        if (!updated) throw new NotFoundError('Partner');
        const event = {
          actor,
          action: 'partner.update',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
          ...(updated.emailChanged ? { details: { emailChanged: true } } : {}),
        };
        await audit.record(trx, { ...event, structureId: actor.structureId });
        if (updated.emailChanged) {
          const others = await partners.structuresWithOpenReferrals(trx, id, actor.structureId);
          for (const structureId of others) await audit.record(trx, { ...event, structureId });
        }
        return (await partners.findById(trx, id, now))!;
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
        // The partner row lock serialises two saves of one partner's services; another
        // structure's partner is not found.
        if (!(await partners.lockOwned(trx, partnerId, actor.structureId)))
          throw new NotFoundError('Partner');
        // An unknown service is a 404 even when its new name is taken.
        if (serviceId && !(await partners.hasService(trx, partnerId, serviceId)))
          throw new NotFoundError('Service');
        if (await partners.serviceNameTaken(trx, partnerId, input.name, serviceId ?? undefined))
          throw new ConflictError('Another service of this partner has this name');
        let id = serviceId;
        if (id) await partners.updateService(trx, actor.structureId, partnerId, id, input, now);
        else id = await partners.insertService(trx, partnerId, input, now);
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: serviceId ? 'partner.service.update' : 'partner.service.create',
          subjectType: 'partner',
          subjectId: partnerId,
          ip: ctx.ip,
          details: { serviceId: id },
        });
        return (await partners.findById(trx, partnerId, now))!;
      });
    },

    /** The review and its audit event commit together, or neither does. */
    async review(actor: Actor, id: string, ctx: RequestContext): Promise<Partner> {
      return knex.transaction(async (trx) => {
        const now = clock.now();
        if (!(await partners.markReviewed(trx, id, actor.structureId, now)))
          throw new NotFoundError('Partner');
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'partner.review',
          subjectType: 'partner',
          subjectId: id,
          ip: ctx.ip,
        });
        return (await partners.findById(trx, id, now))!;
      });
    },
  };
}

export type PartnerDirectory = ReturnType<typeof createPartnerDirectory>;
