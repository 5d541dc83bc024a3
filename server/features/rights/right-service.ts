import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { BusinessRuleError, checkVersion, ConflictError, NotFoundError } from '../../lib/errors';
import type { UnitOfWork } from '../deadlines/outbox';
import { type IdempotencyService, replayById } from '../idempotency/idempotency-service';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { PersonService } from '../persons/person-service';
import type { PersonRightState, Right, RightChange, RightRepository } from './right-repository';
import {
  maySetRight,
  rightUpdateForms,
  type CreateRightInput,
  type RightUpdateForm,
  type ListRightsQuery,
  type SetPersonRightInput,
  type UpdateRightInput,
} from './right-schemas';

export interface RightServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  rights: RightRepository;
  persons: Pick<PersonService, 'assertInScope' | 'lockInScope' | 'touch'>;
  clock: Clock;
  idempotency: Pick<IdempotencyService, 'once'>;
}

/** A person's right with its history, newest change first. */
export interface PersonRight extends Omit<PersonRightState, 'id' | 'rightId'> {
  history: Omit<RightChange, 'personId'>[];
}

const wholePage = <T>(items: T[]): Page<T> => ({
  items,
  total: items.length,
  page: 1,
  pageSize: items.length,
});

/**
 * The structure's catalogue of rights and aids (admins write, staff read) and each person's
 * rights: status, non-take-up reason, amount, every change kept. Person reads and writes are
 * audited like the rest of the file.
 */
export function createRightService({
  knex,
  uow,
  rights,
  persons,
  clock,
  audit,
  idempotency,
}: RightServiceDeps) {
  const withHistory = (s: PersonRightState, changes: RightChange[]): PersonRight => {
    const { id: _id, rightId: _rightId, ...state } = s;
    return {
      ...state,
      history: changes.filter((c) => c.code === s.code).map(({ personId: _p, ...c }) => c),
    };
  };

  async function personRights(db: Knex | Knex.Transaction, actor: Actor, personId: string) {
    const [states, changes] = await Promise.all([
      rights.statesOf(db, actor.structureId, personId),
      rights.changesOf(db, actor.structureId, personId),
    ]);
    return states.map((s) => withHistory(s, changes));
  }

  /** A right of the catalogue, known (else 404). */
  async function knownRight(db: Knex | Knex.Transaction, actor: Actor, code: string) {
    const right = await rights.findByCode(db, actor.structureId, code);
    if (!right) throw new NotFoundError('Right', 'right_not_found');
    return right;
  }

  return {
    async catalogue(actor: Actor, q: ListRightsQuery = {}): Promise<Page<Right>> {
      return wholePage(await rights.list(knex, actor.structureId, q.archived ?? false));
    },

    /** A local aid; once per idempotency key: a repeat answers the one the first added. */
    async create(actor: Actor, input: CreateRightInput, ctx: RequestContext): Promise<Right> {
      return uow((trx) =>
        idempotency.once(trx, actor, ctx, {
          action: 'right.create',
          input,
          async create() {
            const right = await rights.insert(trx, actor.structureId, { ...input, kind: 'local' });
            if (!right) {
              throw new ConflictError('A right of the catalogue already has this code', {
                current: await rights.findByCode(trx, actor.structureId, input.code),
              });
            }
            await audit.record(trx, {
              actor,
              structureId: actor.structureId,
              action: 'right.create',
              subjectType: 'right',
              subjectId: right.id,
              ip: ctx.ip,
              details: { code: right.code },
            });
            return right;
          },
          ...replayById('rightId', 'Right', (id) => rights.findById(trx, actor.structureId, id)),
        }),
      );
    },

    /** Rename, archive or restore; nothing is ever deleted (persons and referrals name it). */
    async update(
      actor: Actor,
      code: string,
      input: UpdateRightInput,
      ctx: RequestContext,
    ): Promise<Right> {
      return uow(async (trx) => {
        const current = await rights.lockByCode(trx, actor.structureId, code);
        if (!current) throw new NotFoundError('Right', 'right_not_found');
        await checkVersion(
          input.version,
          current.version,
          'This right was changed by someone else; reload it',
          async () => current,
        );
        const archivedAt =
          input.archived === undefined
            ? undefined
            : input.archived
              ? (current.archivedAt ?? clock.now())
              : null;
        await rights.update(
          trx,
          actor.structureId,
          code,
          input.version,
          { label: input.label, archivedAt },
          clock.now(),
        );
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'right.update',
          subjectType: 'right',
          subjectId: current.id,
          ip: ctx.ip,
          details: { code, fields: Object.keys(input).filter((k) => k !== 'version') },
        });
        return (await rights.findByCode(trx, actor.structureId, code))!;
      });
    },

    /** Gives a new structure the seeded catalogue, in the caller's transaction. */
    seedCatalogue: (db: Knex | Knex.Transaction, structureId: string) =>
      rights.seed(db, structureId),

    /** The right a referral names: known (400 on the field, as for a partner) and usable. */
    async rightForReferral(
      trx: Knex.Transaction,
      actor: Actor,
      code: string,
    ): Promise<Right | null> {
      const right = await rights.findByCode(trx, actor.structureId, code);
      if (!right) return null;
      if (right.archivedAt)
        throw new BusinessRuleError(
          'right_archived',
          'This right is archived: a new referral cannot name it',
        );
      return right;
    },

    async forPerson(
      actor: Actor,
      personId: string,
      ctx: RequestContext,
    ): Promise<Page<PersonRight>> {
      await persons.assertInScope(knex, actor, personId, ctx);
      const items = await personRights(knex, actor, personId);
      await audit.record(
        knex,
        {
          actor,
          structureId: actor.structureId,
          action: 'person_right.list',
          subjectType: 'person',
          subjectId: personId,
          ip: ctx.ip,
        },
        ctx,
      );
      return wholePage(items);
    },

    async setForPerson(
      actor: Actor,
      personId: string,
      code: string,
      input: SetPersonRightInput,
      ctx: RequestContext,
    ): Promise<PersonRight> {
      const write = () =>
        uow(async (trx) => {
          // The person first (lock order of every write on a file), then the right's row.
          await persons.lockInScope(trx, actor, personId);
          const right = await knownRight(trx, actor, code);
          const current = await rights.lockState(trx, actor.structureId, personId, right.id);
          if (!maySetRight(right, current !== null))
            throw new BusinessRuleError(
              'right_archived',
              'This right is archived: it can no longer be set for a person who does not track it; ask an administrator to restore it',
            );
          await checkVersion(
            input.version,
            current?.version ?? 0,
            "This person's right was changed by someone else; reload it and apply your change again",
            async () =>
              current
                ? withHistory(current, await rights.changesOf(trx, actor.structureId, personId))
                : null,
          );
          const now = clock.now();
          await rights.write(
            trx,
            {
              structureId: actor.structureId,
              personId,
              rightId: right.id,
              actorId: actor.id,
              at: now,
            },
            current,
            {
              status: input.status,
              reason: input.reason ?? null,
              monthlyAmount: input.monthlyAmount ?? null,
              note: input.note ?? null,
            },
          );
          await persons.touch(trx, actor.structureId, personId, now);
          await audit.record(trx, {
            actor,
            structureId: actor.structureId,
            action: 'person_right.update',
            subjectType: 'person',
            subjectId: personId,
            ip: ctx.ip,
            details: { code, from: current?.status ?? null, to: input.status },
          });
          const state = await rights.stateOf(trx, actor.structureId, personId, right.id);
          return withHistory(state!, await rights.changesOf(trx, actor.structureId, personId));
        });
      // The right handed back with a 409 is a read of the file.
      return audit.conflictRead(knex, write, () => ({
        actor,
        structureId: actor.structureId,
        action: 'person_right.list',
        subjectType: 'person',
        subjectId: personId,
        ip: ctx.ip,
        details: { reason: 'conflict', code },
      }));
    },

    /**
     * The right of the structure by id if the person's right may be written now (maySetRight):
     * what a follow-up may ask to update. Null for an archived right the person does not track.
     */
    async updatableRight(
      db: Knex | Knex.Transaction,
      structureId: string,
      personId: string,
      id: string,
    ): Promise<Right | null> {
      const right = await rights.findById(db, structureId, id);
      if (!right) return null;
      const tracked = (await rights.stateOf(db, structureId, personId, id)) !== null;
      return maySetRight(right, tracked) ? right : null;
    },

    /**
     * Where the person's file updates each right it may set (`rightUpdateForms`): what a
     * referral's "update the right" link leads to, or leaves out.
     */
    async updateForms(actor: Actor, personId: string): Promise<Map<string, RightUpdateForm>> {
      const [catalogue, tracked] = await Promise.all([
        rights.list(knex, actor.structureId, false),
        rights.statesOf(knex, actor.structureId, personId),
      ]);
      return rightUpdateForms(catalogue, tracked);
    },

    /** Timeline items: changes of rights by id, in the actor's structure. */
    changesByIds: (db: Knex, actor: Actor, ids: string[]) =>
      rights.changesByIds(db, actor.structureId, ids),
  };
}

export type RightService = ReturnType<typeof createRightService>;
