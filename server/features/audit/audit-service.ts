import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import { ForbiddenError, hasCode } from '../../lib/errors';
import type { Page } from '../../lib/validate';
import { dayStart } from '../../lib/wall-clock';
import {
  type AuditReader,
  LIST_READ_ACTIONS,
  PERSON_SUBJECTS,
  type AuditEvent,
  type AuditFilter,
  type RequestContext,
} from './audit-repository';
import type { AuditQuery } from './audit-schemas';
import type { AuditTrail } from './audit-trail';

export interface AuditServiceDeps {
  knex: Knex;
  /** The trail: the event of reading a person's events, and a page's batched reads (`together`). */
  audit: Pick<AuditTrail, 'record' | 'together'>;
  reader: AuditReader;
  /** 404 unless the person is in the actor's structure. */
  assertPersonInScope(db: Knex, actor: Actor, personId: string): Promise<void>;
  /** The person's id and the ids of the files merged into it (their events stay under them). */
  historyIds(actor: Actor, personId: string): Promise<string[]>;
  /** The file a merged id went into, in the actor's structure, or null. */
  keptFileOf(actor: Actor, mergedId: string): Promise<string | null>;
}

/**
 * Who read and changed what (spec §2, security requirement 16), for the structure's managers and
 * admins. A manager sees the structure's events whole. An admin looks after accounts, teams,
 * partners and settings and has no access to person files: they see every event of the structure,
 * so they can tell who did how much and when, but an event about a person's data (a file and its
 * rights, a referral, a follow-up, a contact, a consent) comes without its subject and details,
 * and they cannot ask for one person's events. Reading a person's events is itself audited.
 */
export function createAuditService({
  knex,
  audit,
  reader,
  assertPersonInScope,
  historyIds,
  keptFileOf,
}: AuditServiceDeps) {
  const redactForAdmin = (e: AuditEvent): AuditEvent =>
    PERSON_SUBJECTS.includes(e.subjectType) ? { ...e, subjectId: null, details: null } : e;

  /**
   * The file whose history is asked for: the person's own, or, for a file merged since, the file
   * it went into, whose history holds the merged file's events too. 404 for any other id.
   */
  async function fileOf(actor: Actor, personId: string): Promise<string> {
    try {
      await assertPersonInScope(knex, actor, personId);
      return personId;
    } catch (err) {
      if (!hasCode(err, 'not_found')) throw err;
      const kept = await keptFileOf(actor, personId);
      if (!kept) throw err;
      return kept;
    }
  }

  return {
    /**
     * Runs the reads of one page, their audit events written together when they end, before
     * the page is sent (see the audit trail's `together`).
     */
    together: audit.together,

    async list(actor: Actor, q: AuditQuery, ctx: RequestContext): Promise<Page<AuditEvent>> {
      const filter: AuditFilter = { structureId: actor.structureId, userId: q.userId };
      let personId: string | undefined;
      if (q.personId) {
        if (actor.role === 'admin')
          throw new ForbiddenError('Administrators have no access to person files');
        personId = await fileOf(actor, q.personId);
        filter.personIds = await historyIds(actor, personId);
      }
      if (q.from) filter.from = dayStart(q.from);
      if (q.to) filter.to = dayStart(q.to, 1);
      const { items, total } = await reader.list(knex, filter, q.page, q.pageSize);
      if (personId)
        await audit.record(knex, {
          actor,
          structureId: actor.structureId,
          action: 'audit.read',
          subjectType: 'person',
          subjectId: personId,
          ip: ctx.ip,
        });
      return {
        items: actor.role === 'admin' ? items.map(redactForAdmin) : items,
        total,
        page: q.page,
        pageSize: q.pageSize,
      };
    },

    /**
     * Every event about a person's files, newest first (the right-of-access export). A list read
     * that showed them comes with its count only: the ids of the other files, referrals or
     * reports it listed are third parties' data (RGPD art. 15.4), not the person's.
     */
    async allForPerson(db: Knex | Knex.Transaction, structureId: string, personIds: string[]) {
      const all: AuditEvent[] = [];
      for (let page = 1; ; page += 1) {
        const { items } = await reader.list(db, { structureId, personIds }, page, 500);
        all.push(...items.map(withoutOthersListed));
        if (items.length < 500) return all;
      }
    },
  };
}

const LIST_READS: ReadonlySet<string> = new Set(Object.values(LIST_READ_ACTIONS).flat());

/** A list read's event with its count only (`results`), where it was written. */
function withoutOthersListed(e: AuditEvent): AuditEvent {
  if (!LIST_READS.has(e.action) || !e.details) return e;
  const { results } = e.details;
  return { ...e, details: results === undefined ? null : { results } };
}

export type AuditService = ReturnType<typeof createAuditService>;
