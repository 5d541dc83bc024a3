import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import type { AuditEvent, AuditTrail, RequestContext } from '../audit/audit-trail';
import type { AuditService } from '../audit/audit-service';
import type { Person, PersonService } from '../persons/person-service';
import type { PersonMergeService } from '../persons/person-merge-service';
import type { SettingsService } from '../settings/settings-service';
import type {
  ExportConsent,
  ExportContact,
  ExportFollowUp,
  ExportReferral,
  ExportReport,
  ExportRight,
  PersonExportRepository,
} from './person-export-repository';

export interface PersonExportDeps {
  knex: Knex;
  clock: Clock;
  persons: Pick<PersonService, 'getInScope'>;
  merges: Pick<PersonMergeService, 'historyIds'>;
  audit: Pick<AuditService, 'allForPerson'>;
  settings: Pick<SettingsService, 'letterhead'>;
  exports: PersonExportRepository;
  /** The audit trail the export is written to (`audit` reads the file's events). */
  trail: AuditTrail;
}

/** Everything held about a person (the right of access, RGPD art. 15). */
export interface PersonExport {
  generatedAt: Date;
  structure: { name: string };
  person: Person;
  /** The ids of files merged into this one: their history is part of this one. */
  mergedFileIds: string[];
  contacts: ExportContact[];
  followUps: ExportFollowUp[];
  rights: ExportRight[];
  consents: ExportConsent[];
  referrals: ExportReferral[];
  /** Reports (signalements) about the person, without who reported them. */
  reports: ExportReport[];
  /** Who read or changed the file, its referrals and the files merged into it, newest first. */
  accessLog: AuditEvent[];
}

export type ExportFormat = 'json' | 'pdf';

/**
 * The right of access (spec §5, security requirement 19): one export of everything held about a
 * person, for a manager to hand over, audited with its format.
 *
 * Private contact notes are in it. The CNIL's reading of the RGPD's right of access (art. 15) is
 * that it covers every piece of data about the person, notes a professional wrote about them
 * included; the exceptions are other people's data and rights, which the manager who hands the
 * export over checks (the person file holds no third party's file). Private notes are otherwise
 * shown to their author only: the export is the one deliberate exception, for managers only,
 * and each export is audited. Reports about the person come without who reported them or how to
 * reach them: that is the reporter's data, which the right of access does not open (art. 15.4).
 */
export function createPersonExportService(deps: PersonExportDeps) {
  const { knex, clock, persons, merges, audit, settings, exports, trail } = deps;
  return {
    async export(
      actor: Actor,
      personId: string,
      format: ExportFormat,
      ctx: RequestContext,
    ): Promise<PersonExport> {
      // Read before the transaction (it reads on its own connection): the ids the file's older
      // audit events were written with.
      const historyIds = await merges.historyIds(actor, personId);
      return knex.transaction(
        async (trx) => {
          const person = await persons.getInScope(trx, actor, personId);
          const s = actor.structureId;
          // One after the other: a transaction is one connection.
          const head = await settings.letterhead(trx, s);
          const contacts = await exports.contacts(trx, s, personId);
          const followUps = await exports.followUps(trx, s, personId);
          const rights = await exports.rights(trx, s, personId);
          const consents = await exports.consents(trx, s, personId);
          const referrals = await exports.referrals(trx, s, personId);
          const reports = await exports.reports(trx, s, personId);
          const accessLog = await audit.allForPerson(trx, s, historyIds);
          await trail.record(trx, {
            actor,
            structureId: s,
            action: 'person.export',
            subjectType: 'person',
            subjectId: personId,
            ip: ctx.ip,
            details: { format },
          });
          return {
            generatedAt: clock.now(),
            structure: { name: head.name },
            person,
            mergedFileIds: historyIds.filter((id) => id !== personId),
            contacts,
            followUps,
            rights,
            consents,
            referrals,
            reports,
            accessLog,
          };
        },
        // One consistent picture of the file, whatever is written meanwhile.
        { isolationLevel: 'repeatable read' },
      );
    },
  };
}

export type PersonExportService = ReturnType<typeof createPersonExportService>;
