import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import type { Page } from '../../lib/validate';
import { auditRepository, type RequestContext } from '../audit/audit-repository';
import type { PersonService } from './person-service';

export interface TimelineItem {
  type: string;
  id: string;
  at: Date;
  data: unknown;
}

/** Each business area that has events about a person contributes a source. */
export type TimelineSource = (
  db: Knex,
  actor: Actor,
  personId: string,
  now: Date,
) => Promise<TimelineItem[]>;

export function createTimelineService(deps: {
  knex: Knex;
  persons: Pick<PersonService, 'getInScope'>;
  sources: TimelineSource[];
  clock: Clock;
}) {
  return {
    /** Every event about a person, newest first. A person file holds tens of events, not thousands. */
    async get(
      actor: Actor,
      personId: string,
      page: number,
      pageSize: number,
      ctx: RequestContext,
    ): Promise<Page<TimelineItem>> {
      await deps.persons.getInScope(deps.knex, actor, personId);
      const now = deps.clock.now();
      const all = (
        await Promise.all(deps.sources.map((s) => s(deps.knex, actor, personId, now)))
      ).flat();
      all.sort(
        (a, b) => new Date(b.at).getTime() - new Date(a.at).getTime() || a.id.localeCompare(b.id),
      );
      await auditRepository.record(deps.knex, {
        actor,
        structureId: actor.structureId,
        action: 'person.timeline',
        subjectType: 'person',
        subjectId: personId,
        ip: ctx.ip,
      });
      return {
        items: all.slice((page - 1) * pageSize, page * pageSize),
        total: all.length,
        page,
        pageSize,
      };
    },
  };
}

export type TimelineService = ReturnType<typeof createTimelineService>;
