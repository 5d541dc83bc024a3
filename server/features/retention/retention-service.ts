import type { Knex } from 'knex';
import type { Clock } from '../../lib/clock';
import { monthsBefore, nextDailyTime } from '../../lib/wall-clock';
import type { AuditTrail } from '../audit/audit-trail';
import type { DeadlineRelay } from '../deadlines/deadline-relay';
import {
  type Deadline,
  type OutboxIn,
  type StructureRuns,
  type OutboxWriter,
  type UnitOfWork,
} from '../deadlines/outbox';
import type { IdempotencyService } from '../idempotency/idempotency-service';
import { IDEMPOTENCY_KEEP_HOURS } from '../idempotency/idempotency-schemas';
import type { SettingsService } from '../settings/settings-service';
import type { ReferralService } from '../referrals/referral-service';
import { SYSTEM_REASONS } from '../referrals/referral-state';
import { AUDIT_KEEP_MONTHS, RETENTION_NIGHTLY, RETENTION_TIME } from './retention-kinds';
import type { AnonymisationCounts, RetentionRepository } from './retention-repository';

export interface RetentionServiceDeps {
  knex: Knex;
  uow: UnitOfWork;
  clock: Clock;
  relay: Pick<DeadlineRelay, 'enqueue'>;
  settings: Pick<SettingsService, 'forStructure'>;
  retention: RetentionRepository;
  audit: AuditTrail;
  structureRuns: StructureRuns;
  outboxIn: OutboxIn;
  /** The creations' one-time keys, removed once older than a day. */
  idempotency: Pick<IdempotencyService, 'purge' | 'countOlderThan'>;
  /** The partner of each referral the run cancels is told, as for any withdrawal. */
  referrals: Pick<ReferralService, 'tellPartnerCancelled'>;
}

/** What one structure's run changed, or in a dry run would change. */
export interface RetentionReport {
  structureId: string;
  dryRun: boolean;
  retentionMonths: number;
  /** Files with no activity since before this moment are anonymised. */
  cutoff: Date;
  /** Audit events from before this moment are purged. */
  auditCutoff: Date;
  persons: { id: string; counts: AnonymisationCounts }[];
  /** Reports dismissed before the cutoff, their text cleared (no file keeps them). */
  dismissedReports: string[];
  /** Reports received before the cutoff and never triaged: dismissed by the system, cleared. */
  waitingReports: string[];
  auditEventsPurged: number;
  /** One-time keys of creations taken before this moment are removed. */
  keyCutoff: Date;
  idempotencyKeysPurged: number;
}

export interface RunOptions {
  dryRun?: boolean;
  /** Called after each file, for long runs: how many of how many. */
  onProgress?: (done: number, total: number, structureId: string) => void;
}

export type RetentionOutcome = { done: true } | { done: false; reason: string };

/** What a run would anonymise and clear now, counted. */
export interface RetentionPreview {
  retentionMonths: number;
  /** Files with no activity since before this moment would be anonymised. */
  cutoff: Date;
  /** Files that would be anonymised. */
  persons: number;
  /** Reports whose text would be cleared (dismissed ones, and those never triaged). */
  reports: number;
}

/**
 * Retention (spec §3, CNIL référentiel for social action): a file with no activity for the
 * structure's `retentionMonths` is anonymised, and audit events older than 12 months are purged;
 * so are the creations' one-time keys older than a day (`features/idempotency`).
 * Nightly, one deadline per structure at 03:00 Paris time, each run planning the next (as the
 * digest); and on demand with `npm run cli -- retention:run [--dry-run]`. A run is idempotent:
 * each file is locked and checked again before it changes, so a second run, or a file touched
 * meanwhile, changes nothing.
 */
export function createRetentionService(deps: RetentionServiceDeps) {
  const { knex, uow, clock, relay, settings, retention, audit, structureRuns, outboxIn } = deps;
  const { idempotency } = deps;

  async function cutoffs(db: Knex | Knex.Transaction, structureId: string, now: Date) {
    const { retentionMonths } = await settings.forStructure(db, structureId);
    return {
      retentionMonths,
      cutoff: monthsBefore(now, retentionMonths),
      auditCutoff: monthsBefore(now, AUDIT_KEEP_MONTHS),
      keyCutoff: new Date(now.getTime() - IDEMPOTENCY_KEEP_HOURS * 3600 * 1000),
    };
  }

  /** Anonymises one file in the caller's transaction, or null when it is no longer due. */
  async function anonymiseOne(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    structureId: string,
    personId: string,
    limits: { cutoff: Date; retentionMonths: number },
    now: Date,
  ): Promise<AnonymisationCounts | null> {
    if (!(await retention.lockIfDue(trx, structureId, personId, limits.cutoff))) return null;
    const subjects = await retention.subjects(trx, structureId, personId);
    const counts = await retention.anonymise(trx, structureId, personId, subjects, now);
    const cancelledReferrals = await retention.cancelOpenReferrals(trx, structureId, subjects, now);
    // One after the other: the transaction is one connection.
    const cancelled = await outbox.cancel('person', personId);
    for (const id of subjects.followUpIds)
      cancelled.push(...(await outbox.cancel('follow_up', id)));
    for (const id of subjects.referralIds) cancelled.push(...(await outbox.cancel('referral', id)));
    // After their pending deadlines were cancelled: the withdrawal's email is planned anew.
    await deps.referrals.tellPartnerCancelled(
      trx,
      outbox,
      structureId,
      cancelledReferrals.map((r) => r.id),
    );
    await audit.record(trx, {
      actor: null,
      structureId,
      action: 'person.anonymise',
      subjectType: 'person',
      subjectId: personId,
      details: {
        reason: 'retention',
        retentionMonths: limits.retentionMonths,
        ...counts,
        deadlinesCancelled: cancelled.length,
      },
    });
    // The system's own referral moves are audited one by one, as an expiry or a cancellation on
    // a consent's revocation is.
    for (const r of cancelledReferrals)
      await audit.record(trx, {
        actor: null,
        structureId,
        action: 'referral.transition',
        subjectType: 'referral',
        subjectId: r.id,
        details: {
          from: r.from,
          to: 'cancelled',
          by: 'system',
          reasonCode: SYSTEM_REASONS.personAnonymised,
        },
      });
    return counts;
  }

  /** One `report.anonymise` audit event for each report retention cleared. */
  async function auditCleared(
    trx: Knex.Transaction,
    structureId: string,
    ids: string[],
    limits: { retentionMonths: number },
    extra: Record<string, unknown> = {},
  ) {
    for (const id of ids)
      await audit.record(trx, {
        actor: null,
        structureId,
        action: 'report.anonymise',
        subjectType: 'report',
        subjectId: id,
        details: { reason: 'retention', retentionMonths: limits.retentionMonths, ...extra },
      });
    return ids;
  }

  /**
   * How retention clears each kind of report past the cutoff: dismissed ones lose their text;
   * those never triaged are dismissed by the system and lose it too, as the public form
   * promises. Each cleared report gets a `report.anonymise` audit event with these details.
   */
  const REPORT_CLEARINGS = {
    dismissed: { clear: retention.clearDismissedReports, details: {} },
    waiting: { clear: retention.dismissWaitingReports, details: { dismissed: 'never_triaged' } },
  } as const;

  /** Clears the reports of one kind (locked again: only those still due); their ids. */
  async function clearReports(
    trx: Knex.Transaction,
    kind: keyof typeof REPORT_CLEARINGS,
    structureId: string,
    ids: string[],
    limits: { cutoff: Date; retentionMonths: number },
    now: Date,
  ): Promise<string[]> {
    const { clear, details } = REPORT_CLEARINGS[kind];
    const cleared = await clear(trx, structureId, ids, limits.cutoff, now);
    return auditCleared(trx, structureId, cleared, limits, details);
  }

  async function purge(trx: Knex.Transaction, structureId: string, auditCutoff: Date) {
    const purged = await retention.purgeAudit(trx, auditCutoff, structureId);
    if (purged > 0)
      await audit.record(trx, {
        actor: null,
        structureId,
        action: 'audit.purge',
        subjectType: 'structure',
        subjectId: structureId,
        details: { purged, before: auditCutoff.toISOString() },
      });
    return purged;
  }

  /** One structure, each file in its own transaction (the CLI's path: long runs show progress). */
  async function runStructure(
    structureId: string,
    opts: RunOptions = {},
  ): Promise<RetentionReport> {
    const now = clock.now();
    const limits = await cutoffs(knex, structureId, now);
    const due = await retention.dueForAnonymisation(knex, structureId, limits.cutoff);
    const report: RetentionReport = {
      structureId,
      dryRun: Boolean(opts.dryRun),
      ...limits,
      persons: [],
      dismissedReports: [],
      waitingReports: [],
      auditEventsPurged: 0,
      idempotencyKeysPurged: 0,
    };
    for (const [i, personId] of due.entries()) {
      if (opts.dryRun) {
        const subjects = await retention.subjects(knex, structureId, personId);
        report.persons.push({
          id: personId,
          counts: await retention.counts(knex, structureId, personId, subjects),
        });
      } else {
        const counts = await uow((trx, outbox) =>
          anonymiseOne(trx, outbox, structureId, personId, limits, now),
        );
        if (counts) report.persons.push({ id: personId, counts });
      }
      opts.onProgress?.(i + 1, due.length, structureId);
    }
    const dismissed = await retention.dismissedReportsDue(knex, structureId, limits.cutoff);
    report.dismissedReports = opts.dryRun
      ? dismissed
      : await knex.transaction((trx) =>
          clearReports(trx, 'dismissed', structureId, dismissed, limits, now),
        );
    const waiting = await retention.waitingReportsDue(knex, structureId, limits.cutoff);
    report.waitingReports = opts.dryRun
      ? waiting
      : await knex.transaction((trx) =>
          clearReports(trx, 'waiting', structureId, waiting, limits, now),
        );
    report.auditEventsPurged = opts.dryRun
      ? await retention.countAuditOlderThan(knex, limits.auditCutoff, structureId)
      : await knex.transaction((trx) => purge(trx, structureId, limits.auditCutoff));
    report.idempotencyKeysPurged = opts.dryRun
      ? await idempotency.countOlderThan(knex, structureId, limits.keyCutoff)
      : await idempotency.purge(knex, structureId, limits.keyCutoff);
    return report;
  }

  return {
    runStructure,

    /**
     * The dry run's count, with `retentionMonths` in place of the structure's period (a change
     * of the setting, before it is saved): the files and reports the next run would anonymise
     * and clear, found by the same queries as a run. In the caller's transaction.
     */
    async preview(
      db: Knex | Knex.Transaction,
      structureId: string,
      retentionMonths: number,
    ): Promise<RetentionPreview> {
      const cutoff = monthsBefore(clock.now(), retentionMonths);
      // One after the other: `db` may be a transaction, one connection.
      const persons = await retention.dueForAnonymisation(db, structureId, cutoff);
      const dismissed = await retention.dismissedReportsDue(db, structureId, cutoff);
      const waiting = await retention.waitingReportsDue(db, structureId, cutoff);
      return {
        retentionMonths,
        cutoff,
        persons: persons.length,
        reports: dismissed.length + waiting.length,
      };
    },

    /** Every structure, one after the other. */
    async runAll(opts: RunOptions = {}): Promise<RetentionReport[]> {
      const reports: RetentionReport[] = [];
      for (const id of await retention.structureIds(knex))
        reports.push(await runStructure(id, opts));
      return reports;
    },

    /** Plans the next nightly run of every structure that has none pending; how many. */
    async ensurePlanned(): Promise<number> {
      const ids: string[] = [];
      for (const structureId of await structureRuns.structuresWithout(knex, RETENTION_NIGHTLY)) {
        const id = await structureRuns.planOnce(
          knex,
          RETENTION_NIGHTLY,
          structureId,
          nextDailyTime(clock.now(), RETENTION_TIME),
        );
        if (id) ids.push(id);
      }
      await relay.enqueue(ids);
      return ids.length;
    },

    /**
     * 'retention.nightly', in its deadline's transaction: the next night planned first, then the
     * structure's files due and its old audit events. The few files that cross the line each
     * night fit in one transaction; the first run on an old database is the CLI's to do.
     */
    async runNightly(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<RetentionOutcome> {
      const { structureId, dueAt } = deadline;
      await structureRuns.planOnce(
        trx,
        RETENTION_NIGHTLY,
        structureId,
        nextDailyTime(now > dueAt ? now : dueAt, RETENTION_TIME),
      );
      const limits = await cutoffs(trx, structureId, now);
      const outbox = outboxIn(trx);
      let anonymised = 0;
      for (const personId of await retention.dueForAnonymisation(trx, structureId, limits.cutoff)) {
        if (await anonymiseOne(trx, outbox, structureId, personId, limits, now)) anonymised += 1;
      }
      const reports = await clearReports(
        trx,
        'dismissed',
        structureId,
        await retention.dismissedReportsDue(trx, structureId, limits.cutoff),
        limits,
        now,
      );
      const waiting = await clearReports(
        trx,
        'waiting',
        structureId,
        await retention.waitingReportsDue(trx, structureId, limits.cutoff),
        limits,
        now,
      );
      const purged = await purge(trx, structureId, limits.auditCutoff);
      const keys = await idempotency.purge(trx, structureId, limits.keyCutoff);
      return anonymised + reports.length + waiting.length + purged + keys > 0
        ? { done: true }
        : {
            done: false,
            reason: 'no file or report due, no audit event or one-time key to purge',
          };
    },
  };
}

export type RetentionService = ReturnType<typeof createRetentionService>;
