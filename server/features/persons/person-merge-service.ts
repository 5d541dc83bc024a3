import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { StaleVersionError, ValidationError, hasCode } from '../../lib/errors';
import type { UnitOfWork } from '../deadlines/outbox';
import type { ReminderPlanner } from '../deadlines/reminder-planner';
import { NO_CONTACT_KINDS } from '../deadlines/rule-kinds';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type {
  DuplicateCandidate,
  DuplicateCriteria,
  Person,
  PersonRepository,
  PersonWrite,
} from './person-repository';
import type { Holdings, MergeMoves, PersonMergeRepository } from './person-merge-repository';
import type { DuplicatesQuery, MergePersonInput } from './person-schemas';
import type { PersonService } from './person-service';

export interface PersonMergeServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  persons: PersonRepository;
  merges: PersonMergeRepository;
  personService: Pick<PersonService, 'getInScope' | 'lockInScope'>;
  planner: Pick<ReminderPlanner, 'planNoContact'>;
  clock: Clock;
}

/** How many possible duplicates are offered: the best few, not a second search. */
export const DUPLICATES_SHOWN = 10;

/** The identity fields a kept file takes from the merged one where it has none. */
const FILLED = [
  'alias',
  'firstName',
  'lastName',
  'birthYear',
  'gender',
  'phone',
  'email',
  'address',
  'place',
  'districtId',
  'householdType',
  'referentId',
] as const;

/**
 * Whether merging `merged` into `kept` reopens the kept file: an open file merged into a closed
 * one is a person still followed, whose no-contact reminders must not stop with the merge (a
 * closed file's reminders skip). Two closed files stay closed.
 */
export function mergeReopensKept(
  kept: Pick<Person, 'closedAt'>,
  merged: Pick<Person, 'closedAt'>,
): boolean {
  return kept.closedAt !== null && merged.closedAt === null;
}

/**
 * What the kept file becomes: its own values, completed by the merged file's where it has none;
 * both situations kept (the kept one first); reminders paused if either file asked for it.
 */
function completedFields(kept: Person, merged: Person): { write: PersonWrite; filled: string[] } {
  const write: Record<string, unknown> = {};
  const filled: string[] = [];
  for (const f of FILLED) {
    if (kept[f] === null && merged[f] !== null) {
      write[f] = merged[f];
      filled.push(f);
    }
  }
  if (merged.situation) {
    write.situation = kept.situation
      ? `${kept.situation}\n\n${merged.situation}`
      : merged.situation;
    filled.push('situation');
  }
  if (merged.pauseReminders && !kept.pauseReminders) {
    write.pauseReminders = true;
    filled.push('pauseReminders');
  }
  return { write: write as PersonWrite, filled };
}

/**
 * Possible duplicates of a person being recorded, and the manager's merge of two files of one
 * person. Both read and write person data: audited like the rest of the file.
 */
export function createPersonMergeService({
  knex,
  uow,
  persons,
  merges,
  personService,
  planner,
  clock,
  audit,
}: PersonMergeServiceDeps) {
  const criteriaOf = (q: DuplicatesQuery): DuplicateCriteria => ({
    alias: q.alias || undefined,
    firstName: q.firstName || undefined,
    lastName: q.lastName || undefined,
    place: q.place || undefined,
    birthYear: typeof q.birthYear === 'number' ? q.birthYear : undefined,
    phone: q.phone || undefined,
  });

  async function findDuplicates(
    actor: Actor,
    criteria: DuplicateCriteria,
    ctx: RequestContext,
    excludeId?: string,
  ): Promise<Page<DuplicateCandidate>> {
    const { items, total } = await persons.duplicates(knex, actor.structureId, criteria, {
      limit: DUPLICATES_SHOWN,
      excludeId,
    });
    await audit.record(knex, {
      actor,
      structureId: actor.structureId,
      action: 'person.duplicates',
      subjectType: 'person',
      subjectId: excludeId ?? null,
      ip: ctx.ip,
      details: { results: items.length, ids: items.map((p) => p.id) },
    });
    return { items, total, page: 1, pageSize: DUPLICATES_SHOWN };
  }

  return {
    /** Files of the caller's structure that may be the person described, best first. */
    duplicates: (actor: Actor, q: DuplicatesQuery, ctx: RequestContext) =>
      findDuplicates(actor, criteriaOf(q), ctx),

    /** The files that look like this one (for the merge page), itself left out. */
    async duplicatesOf(actor: Actor, person: Person, ctx: RequestContext) {
      return findDuplicates(
        actor,
        {
          alias: person.alias ?? undefined,
          firstName: person.firstName ?? undefined,
          lastName: person.lastName ?? undefined,
          place: person.place ?? undefined,
          birthYear: person.birthYear ?? undefined,
          phone: person.phone ?? undefined,
        },
        ctx,
        person.id,
      );
    },

    /** What a file holds, for the side-by-side view; 404 outside the structure. */
    async holdings(actor: Actor, id: string): Promise<Holdings> {
      await personService.getInScope(knex, actor, id);
      return merges.holdings(knex, actor.structureId, id);
    },

    /**
     * Merges file `id` into `input.intoId`: every contact, follow-up, consent, referral, right
     * and right change moves to the kept file, which is completed with what it lacked (and
     * reopened when it was closed and the merged file open: `mergeReopensKept`); pending
     * deadlines about the merged person are cancelled, the kept file's no-contact rules planned
     * again from its merged contacts and any other kind planned for it at its moment (enqueued
     * after commit, like any deadline); notifications lead to the kept file; the merged file's
     * row is deleted and its id answers 404, while person_merges and the audit trail lead from
     * it to the kept one.
     * Both versions must be the ones the caller saw, or nothing happens (409 with both files).
     */
    async merge(
      actor: Actor,
      id: string,
      input: MergePersonInput,
      ctx: RequestContext,
    ): Promise<Person> {
      const { intoId } = input;
      if (intoId === id) {
        throw new ValidationError('Invalid body: intoId: must name another file', [
          { field: 'intoId', message: 'must name another file than the one merged' },
        ]);
      }
      const s = actor.structureId;
      try {
        return await uow(async (trx, outbox) => {
          // Both rows locked, in one order whoever asks, so two merges of one pair cannot each
          // hold the row the other waits for; an anonymised file is refused by its lock.
          for (const pid of [id, intoId].sort()) await personService.lockInScope(trx, actor, pid);
          const merged = await personService.getInScope(trx, actor, id);
          const kept = await personService.getInScope(trx, actor, intoId);
          if (merged.version !== input.version || kept.version !== input.intoVersion) {
            throw new StaleVersionError(
              'One of these files was changed by someone else; compare them again before merging',
              { person: merged, into: kept },
            );
          }

          const { moves, conflicts } = await merges.moveRows(trx, s, id, intoId);

          // Deadlines of follow-ups and referrals follow their subject, which kept its id. Those
          // about the person itself are cancelled; the no-contact rules are planned again below,
          // any other kind for the kept file at its moment.
          const pending = await merges.pendingPersonDeadlines(trx, s, id);
          const cancelled = new Set(pending.length ? await outbox.cancel('person', id) : []);
          let deadlines = 0;
          for (const d of pending) {
            if (!cancelled.has(d.id)) continue; // a job holds it: it finds no person and skips
            deadlines++;
            if (NO_CONTACT_KINDS.includes(d.kind)) continue;
            if (await merges.hasPendingPersonDeadline(trx, s, intoId, d.kind, d.dueAt)) continue;
            await outbox.schedule({
              structureId: s,
              kind: d.kind,
              subjectType: 'person',
              subjectId: intoId,
              dueAt: d.dueAt,
            });
          }
          deadlines += await merges.movePastPersonDeadlines(trx, s, id, intoId);
          // The no-contact rules count from the last contact, which the moved contacts may have
          // changed: the kept file's are planned again from both files' contacts. Written anew
          // even when due at the same moments: a rule skips when a row of its kind and person is
          // newer than its own (a contact planned it again), and the merged file's past rows now
          // name the kept file, so a row older than them would never act. A moment already past
          // (the rule acted, or skipped, on either file) is counted from the merge, not played
          // again at once.
          await outbox.cancel('person', intoId, NO_CONTACT_KINDS);
          await planner.planNoContact(trx, outbox, s, intoId, { replannedAt: clock.now() });
          // After the moves above: a follow-up job that held one of them has committed its
          // notification by now, and this update sees it.
          const notifications = await merges.moveNotifications(trx, s, id, intoId);
          const earlierMerges = await merges.passOnEarlierMerges(trx, s, id, intoId);

          const { write, filled } = completedFields(kept, merged);
          // Reopened as a PATCH clearing the closing reason reopens it; its no-contact rules
          // were planned again above, as reopening plans them.
          const reopened = mergeReopensKept(kept, merged);
          await persons.update(
            trx,
            s,
            intoId,
            kept.version,
            write,
            clock.now(),
            reopened ? { reason: null, at: null } : undefined,
          );

          const left = await merges.leftBehind(trx, id);
          if (left.length > 0) {
            // A table of person data this merge does not know: stop rather than let the
            // delete's cascade empty it.
            throw new Error(
              `Merge stopped: rows still name the merged person in ${left
                .map((l) => `${l.table}.${l.column} (${l.rows})`)
                .join(', ')}`,
            );
          }
          await merges.deletePerson(trx, s, id);
          const moved: MergeMoves = { ...moves, notifications, deadlines, earlierMerges };
          await merges.record(trx, {
            structureId: s,
            mergedId: id,
            keptId: intoId,
            actorId: actor.id,
            at: clock.now(),
            moved,
          });
          await audit.record(trx, {
            actor,
            structureId: s,
            action: 'person.merge',
            subjectType: 'person',
            subjectId: intoId,
            ip: ctx.ip,
            details: { mergedId: id, moved, filled, reopened, rightConflicts: conflicts },
          });
          await audit.record(trx, {
            actor,
            structureId: s,
            action: 'person.merged',
            subjectType: 'person',
            subjectId: id,
            ip: ctx.ip,
            details: { intoId },
          });
          return personService.getInScope(trx, actor, intoId);
        });
      } catch (err) {
        // The 409 hands both files back: a read of each, audited once the write rolled back.
        if (hasCode(err, 'stale_version')) {
          for (const pid of [id, intoId]) {
            await audit.record(knex, {
              actor,
              structureId: s,
              action: 'person.read',
              subjectType: 'person',
              subjectId: pid,
              ip: ctx.ip,
              details: { reason: 'conflict' },
            });
          }
        }
        throw err;
      }
    },

    /** The file a merged id now lives in (for a page that meets an old link), or null. */
    keptFileOf: (actor: Actor, mergedId: string) =>
      merges.keptFileOf(knex, actor.structureId, mergedId),

    /** The ids a file's history was written under: its own and its merged files'. */
    historyIds: (actor: Actor, personId: string) =>
      merges.historyIds(knex, actor.structureId, personId),
  };
}

export type PersonMergeService = ReturnType<typeof createPersonMergeService>;
