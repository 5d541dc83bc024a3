import type { Knex } from 'knex';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { addressKey, consumeOrRefuse } from '../../lib/rate-limit';
import type { Actor } from '../../auth/actor';
import { businessDaysBetween } from '../../lib/calendar';
import type { Clock } from '../../lib/clock';
import { InvalidTransitionError, NotFoundError, ValidationError } from '../../lib/errors';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { Deadline, OutboxWriter, UnitOfWork } from '../deadlines/outbox';
import { done, skipped, type DeadlineOutcome } from '../deadlines/deadline-outcome';
import type { IdempotencyService } from '../idempotency/idempotency-service';
import type { NotificationService } from '../notifications/notification-service';
import type { TeamService } from '../teams/team-service';
import type { PersonService } from '../persons/person-service';
import type { SettingsService } from '../settings/settings-service';
import { newReceiptNumber } from './report-receipt';
import type { Report, ReportRepository, SentReport } from './report-repository';
import {
  NOTIFY_REPORT_ESCALATED,
  REPORT_ESCALATE,
  type ListReportsQuery,
  type PartnerReportInput,
  type PublicReportInput,
  type ReportChannel,
  type TriageInput,
} from './report-schemas';

export interface ReportLimits {
  /** Public reports per client address. */
  byAddress: RateLimiterAbstract;
  /** Public reports per structure, whatever the address. */
  byStructure: RateLimiterAbstract;
}

export interface ReportServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  reports: ReportRepository;
  persons: Pick<PersonService, 'createInTransaction' | 'lockForWrite'>;
  /** The retention period, the triage delay and the calendar it is counted on. */
  settings: Pick<SettingsService, 'forStructure' | 'rulesOf'>;
  clock: Clock;
  limits: ReportLimits;
  /** Who is told of a report waiting too long: the structure's active managers. */
  teams: Pick<TeamService, 'structureManagers'>;
  notifications: Pick<NotificationService, 'notifyInTransaction'>;
  idempotency: Pick<IdempotencyService, 'once'>;
}

/** What the reporter keeps. */
export interface Receipt {
  receiptNumber: string;
  receivedAt: Date;
}

/** A structure as the public form names it, with how long it keeps what it is told. */
export interface PublicStructure {
  id: string;
  name: string;
  slug: string;
  retentionMonths: number;
}

/** Drawing a receipt number again after a clash: 30^8 numbers make a second clash unheard of. */
const RECEIPT_ATTEMPTS = 5;

/**
 * Reports (signalements): residents report through the public form (no account, rate-limited
 * per address and per structure, a honeypot), partners from their inbox; workers and managers
 * triage them into a new person, a link to a known one, or a dismissal with a reason. A report
 * left waiting escalates to the managers (a deadline written with the report). Reports are free
 * text from strangers: encrypted at rest, every read and write audited.
 */
export function createReportService({
  knex,
  uow,
  reports,
  persons,
  settings,
  clock,
  limits,
  audit,
  teams,
  notifications,
  idempotency,
}: ReportServiceDeps) {
  const consume = (limiter: RateLimiterAbstract, key: string) =>
    consumeOrRefuse(limiter, key, 'Too many reports sent; wait a while and try again');

  async function structureBySlug(slug: string) {
    const s = await reports.structureBySlug(knex, slug);
    if (!s) throw new NotFoundError('Structure');
    return s;
  }

  /** The moment the managers are told if the report still waits, from the structure's settings. */
  async function triageDueAt(trx: Knex.Transaction, structureId: string, createdAt: Date) {
    const { settings: s, calendar } = await settings.rulesOf(trx, structureId);
    return calendar.nextWorkingMoment(calendar.addBusinessDays(createdAt, s.reportTriageDays));
  }

  /** Writes the report and its escalation deadline in one transaction; the receipt. */
  async function record(
    structureId: string,
    channel: ReportChannel,
    author: Actor | null,
    fields: { location: string; who?: string; concern: string; reporterContact?: string },
    ctx: RequestContext,
  ): Promise<Receipt> {
    const now = clock.now();
    return uow(async (trx, outbox) => {
      const create = async (): Promise<Receipt> => {
        let id: string | null = null;
        let receiptNumber = '';
        for (let i = 0; i < RECEIPT_ATTEMPTS && !id; i++) {
          receiptNumber = newReceiptNumber();
          id = await reports.insert(trx, {
            structureId,
            receiptNumber,
            channel,
            authorId: author?.id ?? null,
            location: fields.location,
            who: fields.who ?? null,
            concern: fields.concern,
            reporterContact: fields.reporterContact ?? null,
            createdAt: now,
          });
        }
        if (!id) throw new Error('Could not draw a free receipt number');
        await outbox.schedule({
          structureId,
          kind: REPORT_ESCALATE,
          subjectType: 'report',
          subjectId: id,
          dueAt: await triageDueAt(trx, structureId, now),
        });
        await audit.record(trx, {
          actor: author,
          structureId,
          action: 'report.create',
          subjectType: 'report',
          subjectId: id,
          ip: ctx.ip,
          details: { channel },
        });
        return { receiptNumber, receivedAt: now };
      };
      // A partner user's report is made once per idempotency key: a repeat gets the same
      // receipt. The public form has no account to hold a key.
      if (!author) return create();
      return idempotency.once(trx, author, ctx, {
        action: 'report.create',
        input: fields,
        create,
        keep: (r) => ({ receiptNumber: r.receiptNumber, receivedAt: r.receivedAt.toISOString() }),
        replay: async (kept) => ({
          receiptNumber: kept.receiptNumber,
          receivedAt: new Date(kept.receivedAt),
        }),
      });
    });
  }

  async function getInScope(db: Knex | Knex.Transaction, actor: Actor, id: string) {
    const report = await reports.findById(db, actor.structureId, id);
    if (!report) throw new NotFoundError('Report');
    return report;
  }

  /** The person a report is triaged into: a new file, or a known one of the structure. */
  async function personFor(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    actor: Actor,
    input: TriageInput,
    report: NonNullable<Awaited<ReturnType<ReportRepository['lock']>>>,
    ctx: RequestContext,
  ): Promise<string | null> {
    if (input.action === 'dismiss') return null;
    if (input.action === 'link') {
      const personId = input.personId!;
      // The lock moves the file's last activity, and refuses an anonymised file (409).
      if (!(await persons.lockForWrite(trx, actor.structureId, personId, clock.now())))
        throw new ValidationError('Invalid body: personId: unknown person', [
          { field: 'personId', message: 'is not a person of your structure' },
        ]);
      return personId;
    }
    const person = await persons.createInTransaction(
      trx,
      outbox,
      actor,
      {
        alias: report.who ?? `Signalement ${report.receiptNumber}`,
        place: report.location,
        situation: `Signalement ${report.receiptNumber} : ${report.concern}`,
        source: report.channel === 'partner' ? 'partner' : 'citizen_report',
      },
      ctx,
    );
    return person.id;
  }

  return {
    /** The structure a public form is for (its name, its retention period), or 404. */
    async structureForForm(slug: string): Promise<PublicStructure> {
      const s = await structureBySlug(slug);
      const { retentionMonths } = await settings.forStructure(knex, s.id);
      return { ...s, retentionMonths };
    },

    /**
     * A resident's report. Counted per address before anything is read, then per structure
     * (a filled honeypot is not counted there, so bots cannot close the form to residents);
     * a filled honeypot gets a receipt like any, and nothing is stored.
     */
    async submitPublic(
      slug: string,
      input: PublicReportInput,
      ctx: RequestContext,
    ): Promise<Receipt> {
      await consume(limits.byAddress, addressKey(ctx.ip));
      const structure = await structureBySlug(slug);
      if (input.website) return { receiptNumber: newReceiptNumber(), receivedAt: clock.now() };
      await consume(limits.byStructure, structure.id);
      const { website: _honeypot, ...fields } = input;
      return record(structure.id, 'public', null, fields, ctx);
    },

    /** A partner's report, from their inbox: they are its author. */
    submitByPartner: (actor: Actor, input: PartnerReportInput, ctx: RequestContext) =>
      record(actor.structureId, 'partner', actor, input, ctx),

    /** The reports a partner user made: receipts only. */
    async sent(actor: Actor, q: { page: number; pageSize: number }): Promise<Page<SentReport>> {
      const { items, total } = await reports.sentBy(knex, actor.structureId, actor.id, q);
      return { items, total, page: q.page, pageSize: q.pageSize };
    },

    /** The triage queue and the triaged reports; every read is audited. */
    async list(actor: Actor, q: ListReportsQuery, ctx: RequestContext): Promise<Page<Report>> {
      const { items, total } = await reports.list(knex, actor.structureId, q);
      await audit.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'report.list',
        subjectType: 'report',
        ip: ctx.ip,
        details: { status: q.status ?? null, results: items.length, ids: items.map((r) => r.id) },
      });
      return { items, total, page: q.page, pageSize: q.pageSize };
    },

    async get(actor: Actor, id: string, ctx: RequestContext): Promise<Report> {
      const report = await getInScope(knex, actor, id);
      await audit.record(knex, {
        actor,
        structureId: actor.structureId,
        action: 'report.read',
        subjectType: 'report',
        subjectId: id,
        ip: ctx.ip,
      });
      return report;
    },

    /**
     * Triage, once: a new person (source citizen report, or partner), a link to a person of the
     * structure, or a dismissal with a reason. The escalation is cancelled in the same
     * transaction; a second triage is a 409.
     */
    async triage(
      actor: Actor,
      id: string,
      input: TriageInput,
      ctx: RequestContext,
    ): Promise<Report> {
      return uow(async (trx, outbox) => {
        const report = await reports.lock(trx, actor.structureId, id);
        if (!report) throw new NotFoundError('Report');
        if (report.triagedAt) {
          const current = await getInScope(trx, actor, id);
          throw new InvalidTransitionError('This report was triaged already', {
            status: current.status,
            triagedAt: current.triagedAt,
          });
        }
        const personId = await personFor(trx, outbox, actor, input, report, ctx);
        await reports.triage(trx, actor.structureId, id, {
          at: clock.now(),
          by: actor.id,
          action: input.action,
          personId,
          reason: input.reason ?? null,
        });
        await outbox.cancel('report', id, [REPORT_ESCALATE]);
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'report.triage',
          subjectType: 'report',
          subjectId: id,
          ip: ctx.ip,
          details: { action: input.action, personId },
        });
        if (personId)
          await audit.record(trx, {
            actor,
            structureId: actor.structureId,
            action: 'person.report_linked',
            subjectType: 'person',
            subjectId: personId,
            ip: ctx.ip,
            details: { reportId: id, action: input.action },
          });
        return getInScope(trx, actor, id);
      });
    },

    /** Timeline items: the reports triaged into a person's file, in the actor's structure. */
    byIds: (db: Knex, actor: Actor, ids: string[]) => reports.byIds(db, actor.structureId, ids),

    /**
     * 'report.escalate': a report still waiting triage after the structure's `reportTriageDays`
     * business days; the structure's active managers are told in the app. The report is locked
     * first, so a triage under way finishes before this looks (and a triaged report is skipped,
     * its deadline cancelled anyway). The title names the receipt, never the person or the
     * text: it may go out by email. The notification's unique key makes a second run a no-op.
     */
    async escalate(trx: Knex.Transaction, deadline: Deadline): Promise<DeadlineOutcome> {
      const report = await reports.lock(trx, deadline.structureId, deadline.subjectId);
      if (!report) return skipped('report not found');
      if (report.triagedAt) return skipped('report was triaged');
      const managers = await teams.structureManagers(trx, deadline.structureId);
      if (managers.length === 0) return skipped('the structure has no active manager');
      const { calendar } = await settings.rulesOf(trx, deadline.structureId);
      const days = businessDaysBetween(calendar, report.createdAt, deadline.dueAt);
      for (const m of managers) {
        await notifications.notifyInTransaction(trx, {
          structureId: deadline.structureId,
          recipientId: m.id,
          kind: NOTIFY_REPORT_ESCALATED,
          subjectType: 'report',
          subjectId: report.id,
          dueMoment: deadline.dueAt,
          title: `Signalement ${report.receiptNumber} en attente de tri depuis ${days} ${days > 1 ? 'jours ouvrés' : 'jour ouvré'}`,
          link: `/signalements/${report.id}`,
        });
      }
      return done();
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
