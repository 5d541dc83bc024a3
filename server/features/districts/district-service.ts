import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { checkVersion, ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import type { Page } from '../../lib/validate';
import type { AuditTrail, RequestContext } from '../audit/audit-trail';
import type { UnitOfWork } from '../deadlines/outbox';
import { type IdempotencyService, replayById } from '../idempotency/idempotency-service';
import type { District, DistrictRepository } from './district-repository';
import {
  DISTRICT_ARCHIVED,
  mayChooseDistrict,
  type CreateDistrictInput,
  type ListDistrictsQuery,
  type UpdateDistrictInput,
} from './district-schemas';

export interface DistrictServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  districts: DistrictRepository;
  clock: Clock;
  idempotency: Pick<IdempotencyService, 'once'>;
}

const nameTaken = () => new ConflictError('Your structure already has a district of this name');

/**
 * The structure's districts (quartiers, with the QPV flag): admins add, rename, flag and archive
 * them; staff read them for the person fields and filters. Nothing is deleted, since persons,
 * follow-ups and statistics name a district: an archived one is no longer offered for a new
 * choice, and a person already in it keeps it (mayChooseDistrict).
 */
export function createDistrictService({
  audit,
  knex,
  uow,
  districts,
  clock,
  idempotency,
}: DistrictServiceDeps) {
  return {
    /** Bounded reference data (a city has tens of quartiers): the list comes whole, on one page. */
    async list(actor: Actor, q: ListDistrictsQuery = {}): Promise<Page<District>> {
      const items = await districts.list(knex, actor.structureId, q.archived ?? false);
      return { items, total: items.length, page: 1, pageSize: items.length };
    },

    /** A new district; once per idempotency key: a repeat answers the one the first made. */
    async create(actor: Actor, input: CreateDistrictInput, ctx: RequestContext): Promise<District> {
      return uow((trx) =>
        idempotency.once(trx, actor, ctx, {
          action: 'district.create',
          input,
          async create() {
            const district = await districts.insert(trx, actor.structureId, {
              name: input.name,
              code: input.code ?? null,
              qpv: input.qpv ?? false,
            });
            if (!district) throw nameTaken();
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'district.create',
              subjectType: 'district',
              subjectId: district.id,
              ip: ctx.ip,
              details: { name: district.name },
            });
            return district;
          },
          ...replayById('districtId', 'District', (id) =>
            districts.findById(trx, actor.structureId, id),
          ),
        }),
      );
    },

    /** Rename, set the code or the QPV flag, archive or restore; 404 outside the structure. */
    async update(
      actor: Actor,
      id: string,
      input: UpdateDistrictInput,
      ctx: RequestContext,
    ): Promise<District> {
      return uow(async (trx) => {
        const current = await districts.lock(trx, actor.structureId, id);
        if (!current) throw new NotFoundError('District');
        await checkVersion(
          input.version,
          current.version,
          'This district was changed by someone else; reload it',
          async () => current,
        );
        const archivedAt =
          input.archived === undefined
            ? undefined
            : input.archived
              ? (current.archivedAt ?? clock.now())
              : null;
        const district = await districts.update(trx, actor.structureId, id, {
          name: input.name,
          code: input.code,
          qpv: input.qpv,
          archivedAt,
        });
        if (district === 'name_taken') throw nameTaken();
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'district.update',
          subjectType: 'district',
          subjectId: id,
          ip: ctx.ip,
          details: { fields: Object.keys(input).filter((k) => k !== 'version') },
        });
        return district;
      });
    },

    /**
     * A person's district about to be written is one of the structure's, and one that may be
     * chosen (`currentId`: the district the person is in now, which stays choosable archived),
     * or a 400 naming the field.
     */
    async checkChoice(
      db: Knex | Knex.Transaction,
      structureId: string,
      id: string,
      currentId: string | null,
    ): Promise<void> {
      if (id === currentId) return;
      const district = await districts.findById(db, structureId, id);
      if (!district)
        throw new ValidationError('Invalid body: districtId: unknown district', [
          { field: 'districtId', message: 'is not a district of your structure' },
        ]);
      if (!mayChooseDistrict(district, currentId))
        throw new ValidationError('Invalid body: districtId: archived district', [
          {
            field: 'districtId',
            message: 'is archived: it is no longer offered for a new choice',
            code: DISTRICT_ARCHIVED,
          },
        ]);
    },
  };
}

export type DistrictService = ReturnType<typeof createDistrictService>;
