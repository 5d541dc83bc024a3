import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import {
  createBusinessCalendar,
  type BusinessCalendar,
  type CalendarOptions,
} from '../../lib/calendar';
import type { Clock } from '../../lib/clock';
import { BusinessRuleError, checkVersion, NotFoundError, ValidationError } from '../../lib/errors';
import type { Deadline, NewDeadline, OutboxWriter, UnitOfWork } from '../deadlines/outbox';
import { zodIssues } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { RetentionService } from '../retention/retention-service';
import { type SettingsRepository, type PublicStructure } from './settings-repository';
import {
  changedSettings,
  completeSettings,
  withDefaults,
  type SettingName,
  type PatchSettingsInput,
  type RetentionConfirmation,
  type Letterhead,
  type SettingsView,
  type StructureSettings,
} from './settings-schemas';

type Db = Knex | Knex.Transaction;

export type ResolvedLetterhead = Letterhead & { city: string | null };

/** A structure's settings in force and the business calendar they describe. */
export interface StructureRules {
  settings: StructureSettings;
  calendar: BusinessCalendar;
}

/** What new settings make of a feature's pending deadlines. */
export interface Replan {
  /** The new due moment of each pending deadline that moves; the others stay where they are. */
  moves: Map<string, Date>;
  /** Pending deadlines the new settings no longer call for. */
  cancels?: readonly string[];
  /** Deadlines the new settings call for that are neither pending nor already delivered. */
  adds?: readonly NewDeadline[];
}

/**
 * A feature whose deadlines depend on the settings: given pending deadlines of its kinds in one
 * structure and the new settings, it answers the new due moment of each one that moves and,
 * where the settings change how many there are, those to cancel and to add. Registered in the
 * container; all of it is written in the settings change's transaction.
 */
export interface DeadlineReplanner {
  /**
   * Each kind it re-plans, and the settings its due moment is computed from: a change of none of
   * them leaves the kind's deadlines alone, unread.
   */
  kinds: Readonly<Record<string, readonly SettingName[]>>;
  /**
   * `pending` holds every pending deadline of the kinds asked about each subject it names (a
   * rule may count a subject's deadlines together), in a batch of bounded size.
   */
  replan(
    trx: Knex.Transaction,
    structureId: string,
    pending: Deadline[],
    settings: StructureSettings,
    calendar: BusinessCalendar,
  ): Promise<Replan>;
}

export interface SettingsServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  clock: Clock;
  /** What every structure's calendar shares (the time zone); the rest is each one's settings. */
  calendarOptions?: Pick<CalendarOptions, 'timeZone'>;
  replanners?: DeadlineReplanner[];
  /**
   * The structure's pending deadlines of these kinds, handed to `batch` a bounded number at a
   * time, each subject's together (the deadlines feature reads them).
   */
  eachPendingOfKinds(
    trx: Knex.Transaction,
    structureId: string,
    kinds: readonly string[],
    batch: (pending: Deadline[]) => Promise<void>,
  ): Promise<void>;
  settingsRows: SettingsRepository;
  /** What a shorter retention period would anonymise at the next run (the dry run, counted). */
  retention: Pick<RetentionService, 'preview'>;
}

/**
 * Each structure's settings: the durations of the deadline rules, the digest's time, working
 * hours, the small-count threshold and the retention period. Deadlines read them when they are
 * planned; a change re-plans the pending ones, in the same transaction.
 */
export function createSettingsService({
  knex,
  uow,
  clock,
  calendarOptions = {},
  replanners = [],
  eachPendingOfKinds,
  audit,
  settingsRows,
  retention,
}: SettingsServiceDeps) {
  const calendars = new Map<string, BusinessCalendar>();
  /** The business calendar these settings describe (one per distinct calendar, kept). */
  const calendarFor = (
    s: Pick<StructureSettings, 'workingHours' | 'alsaceMoselle'>,
  ): BusinessCalendar => {
    const key = `${s.workingHours.start}-${s.workingHours.end}-${s.alsaceMoselle}`;
    let cal = calendars.get(key);
    if (!cal) {
      cal = createBusinessCalendar({
        ...calendarOptions,
        alsaceMoselle: s.alsaceMoselle,
        dayStart: s.workingHours.start,
        dayEnd: s.workingHours.end,
      });
      calendars.set(key, cal);
    }
    return cal;
  };

  async function view(db: Db, structureId: string): Promise<SettingsView> {
    const stored = await settingsRows.read(db, structureId);
    if (!stored) throw new NotFoundError('Structure');
    return {
      ...withDefaults(stored.settings),
      version: stored.version,
      updatedAt: stored.updatedAt,
    };
  }

  /**
   * Moves the pending deadlines that the new settings place elsewhere, cancels those they no
   * longer call for and adds those they do; returns how many changed. Only the kinds whose
   * moment depends on a setting that changed are read: a letterhead or a threshold changes
   * nothing planned. The structure stays locked meanwhile (every write about it waits), so the
   * rest is read and moved in bounded batches, each in a few statements.
   */
  async function replan(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    structureId: string,
    before: StructureSettings,
    settings: StructureSettings,
  ): Promise<number> {
    const changed = changedSettings(before, settings);
    const calendar = calendarFor(settings);
    let moved = 0;
    for (const r of replanners) {
      const kinds = Object.entries(r.kinds)
        .filter(([, dependsOn]) => dependsOn.some((name) => changed.has(name)))
        .map(([kind]) => kind);
      if (kinds.length === 0) continue;
      await eachPendingOfKinds(trx, structureId, kinds, async (pending) => {
        const {
          moves: next,
          cancels = [],
          adds = [],
        } = await r.replan(trx, structureId, pending, settings, calendar);
        const moves = pending.flatMap((d) => {
          const dueAt = next.get(d.id);
          return dueAt && dueAt.getTime() !== d.dueAt.getTime() ? [{ id: d.id, dueAt }] : [];
        });
        moved += (await outbox.rescheduleAll(moves)).created.length;
        if (cancels.length) moved += (await outbox.cancelPending(cancels)).length;
        if (adds.length) moved += (await outbox.scheduleAll(adds)).length;
      });
    }
    return moved;
  }

  /** The settings in force for a structure (defaults where nothing was set). */
  async function forStructure(db: Db, structureId: string): Promise<StructureSettings> {
    const stored = await settingsRows.read(db, structureId);
    return withDefaults(stored?.settings);
  }

  return {
    forStructure,

    /**
     * A structure's settings in force and its business calendar (its working hours, its public
     * holidays): the one way a rule gets a structure's calendar, so a deadline is planned, moved
     * and counted on the same days and hours.
     */
    async rulesOf(db: Db, structureId: string): Promise<StructureRules> {
      const settings = await forStructure(db, structureId);
      return { settings, calendar: calendarFor(settings) };
    },

    /** Settings as stored (a structure's raw column, read elsewhere), with their defaults. */
    fromStored: (stored: unknown): StructureSettings => withDefaults(stored),

    get: (actor: Actor): Promise<SettingsView> => view(knex, actor.structureId),

    /**
     * What a structure's legal pages need, for anyone: its public face and its settings in
     * force. By slug, else by id, else the deployment's oldest structure; null when none.
     */
    async legalNotice(ref: {
      slug?: string;
      structureId?: string;
    }): Promise<{ structure: PublicStructure; settings: StructureSettings } | null> {
      const found = await settingsRows.readPublic(knex, {
        slug: ref.slug,
        id: ref.structureId,
      });
      return found && { structure: found.structure, settings: withDefaults(found.settings) };
    },

    /** The letterhead of the structure's letters, its name filled in, and the city they are sent from. */
    async letterhead(db: Db, structureId: string): Promise<ResolvedLetterhead> {
      const settings = await forStructure(db, structureId);
      const identity = await settingsRows.identity(db, structureId);
      if (!identity) throw new NotFoundError('Structure');
      const head = settings.letterhead;
      return { ...head, name: head.name || identity.name, city: identity.city };
    },

    async update(
      actor: Actor,
      input: PatchSettingsInput,
      ctx: RequestContext,
    ): Promise<SettingsView & { replanned: number }> {
      return uow(async (trx, outbox) => {
        const stored = await settingsRows.lock(trx, actor.structureId);
        if (!stored) throw new NotFoundError('Structure');
        const current = withDefaults(stored.settings);
        await checkVersion(
          input.version,
          stored.version,
          'The settings were changed by someone else; reload them',
          async () => ({ ...current, version: stored.version, updatedAt: stored.updatedAt }),
        );
        const { version: _v, confirmRetention, ...changes } = input;
        const merged = completeSettings.safeParse({ ...current, ...changes });
        if (!merged.success) {
          const details = zodIssues(merged.error);
          throw new ValidationError(
            `Invalid body: ${details[0].field}: ${details[0].message}`,
            details,
          );
        }
        // A shorter period anonymises, at the next nightly run and for good, every file idle
        // past it: what the dry run finds is said first, and saved only once confirmed.
        const preview =
          merged.data.retentionMonths < current.retentionMonths
            ? await retention.preview(trx, actor.structureId, merged.data.retentionMonths)
            : null;
        const shortened = preview && (preview.persons > 0 || preview.reports > 0) ? preview : null;
        if (shortened && !confirmRetention)
          throw new BusinessRuleError(
            'retention_confirmation_required',
            `A retention of ${shortened.retentionMonths} months anonymises ${shortened.persons} file(s) and clears ${shortened.reports} report(s) at the next run, irreversibly: send confirmRetention: true to save it`,
            {
              retentionMonths: shortened.retentionMonths,
              currentRetentionMonths: current.retentionMonths,
              persons: shortened.persons,
              reports: shortened.reports,
            } satisfies RetentionConfirmation,
          );
        const now = clock.now();
        await settingsRows.write(trx, actor.structureId, merged.data, stored.version, now);
        const replanned = await replan(trx, outbox, actor.structureId, current, merged.data);
        await audit.record(trx, {
          actor,
          structureId: actor.structureId,
          action: 'settings.update',
          subjectType: 'structure',
          subjectId: actor.structureId,
          ip: ctx.ip,
          details: {
            fields: Object.keys(changes),
            replanned,
            // What the shorter period was confirmed to anonymise, as the dry run counted it.
            ...(shortened
              ? {
                  retentionConfirmed: {
                    from: current.retentionMonths,
                    to: shortened.retentionMonths,
                    persons: shortened.persons,
                    reports: shortened.reports,
                  },
                }
              : {}),
          },
        });
        return { ...(await view(trx, actor.structureId)), replanned };
      });
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
