import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { PersonService } from './person-service';
import { type TimelineRepository, type TimelineType } from './timeline-repository';

export interface TimelineItem {
  type: TimelineType;
  id: string;
  at: Date;
  data: unknown;
}

/**
 * Reads the details of the events of one type on a page, as their own area shows them to this
 * actor (a private note only to its author), scoped by the actor's structure.
 */
export type TimelineDetails = (
  db: Knex,
  actor: Actor,
  ids: string[],
  now: Date,
) => Promise<{ id: string }[]>;

export function createTimelineService(deps: {
  knex: Knex;
  persons: Pick<PersonService, 'assertInScope'>;
  details: Record<TimelineType, TimelineDetails>;
  clock: Clock;
  timeline: TimelineRepository;
  audit: AuditTrail;
}) {
  const { audit } = deps;
  const { timeline } = deps;
  return {
    /** Every event about a person, newest first, paged in the database. */
    async get(
      actor: Actor,
      personId: string,
      page: number,
      pageSize: number,
      ctx: RequestContext,
    ): Promise<Page<TimelineItem>> {
      await deps.persons.assertInScope(deps.knex, actor, personId, ctx);
      const now = deps.clock.now();
      const { entries, total } = await timeline.page(
        deps.knex,
        actor.structureId,
        personId,
        page,
        pageSize,
      );
      const found = new Map<string, unknown>();
      await Promise.all(
        Object.entries(deps.details).map(async ([type, read]) => {
          const ids = entries.filter((e) => e.type === type).map((e) => e.id);
          if (ids.length === 0) return;
          for (const d of await read(deps.knex, actor, ids, now)) found.set(`${type}:${d.id}`, d);
        }),
      );
      await audit.record(
        deps.knex,
        {
          actor,
          structureId: actor.structureId,
          action: 'person.timeline',
          subjectType: 'person',
          subjectId: personId,
          ip: ctx.ip,
        },
        ctx,
      );
      return {
        // An event deleted between the two reads is left out rather than shown empty.
        items: entries
          .filter((e) => found.has(`${e.type}:${e.id}`))
          .map((e) => ({ ...e, data: found.get(`${e.type}:${e.id}`) })),
        total,
        page,
        pageSize,
      };
    },
  };
}

export type TimelineService = ReturnType<typeof createTimelineService>;
