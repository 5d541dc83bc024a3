import type { Knex } from 'knex';
import { businessDaysBetween, type BusinessCalendar } from '../../lib/calendar';
import { type AuditTrail } from '../audit/audit-trail';
import { done, skipped, type DeadlineOutcome } from '../deadlines/deadline-outcome';
import type { Deadline, OutboxIn } from '../deadlines/outbox';
import type { RuleSettingsSource } from '../deadlines/rule-settings';
import {
  NOTIFY_FOLLOW_UP_ESCALATED,
  NOTIFY_FOLLOW_UP_OVERDUE,
  NOTIFY_SUGGEST_CLOSE,
} from '../deadlines/rule-kinds';
import type { NotificationService } from '../notifications/notification-service';
import { personLabel } from '../persons/person-label';
import { remindersOff, type ReminderState } from '../persons/person-reminders';
import type { PersonService } from '../persons/person-service';
import type { TeamService } from '../teams/team-service';
import type { UserRecord, UserService } from '../users/user-service';
import type { FollowUp, FollowUpRepository } from './follow-up-repository';
import { FOLLOW_UP_DUE } from './follow-up-schemas';
import type { FollowUpService } from './follow-up-service';

const DAY_MS = 86_400_000;

/** "1 jour ouvré", "3 jours ouvrés": how late a follow-up is, in its notices' titles. */
const businessDays = (days: number) => `${days} ${days > 1 ? 'jours ouvrés' : 'jour ouvré'}`;

export interface FollowUpReminderServiceDeps {
  audit: AuditTrail;
  followUps: Pick<FollowUpRepository, 'lock' | 'findById' | 'hasOrigin' | 'lockMany'>;
  followUpService: Pick<FollowUpService, 'planInTransaction'>;
  persons: Pick<PersonService, 'lock' | 'find' | 'reminderStates'>;
  users: Pick<UserService, 'findActiveStaff'>;
  teams: Pick<TeamService, 'managersOf'>;
  notifications: Pick<NotificationService, 'notifyInTransaction' | 'notifyManyInTransaction'>;
  /** The durations and the structure's calendar, which counts the days late in the titles. */
  ruleSettings: RuleSettingsSource;
  /** The outbox inside the deadline's transaction, which the worker owns. */
  outboxIn: OutboxIn;
  /** Whether a newer deadline of the same kind and subject was planned since (it holds the rule). */
  hasNewerDeadline(db: Knex | Knex.Transaction, d: Deadline): Promise<boolean>;
  /** The same for a batch, in one query: the ids of those a newer deadline follows. */
  newerDeadlines(db: Knex | Knex.Transaction, ds: Deadline[]): Promise<Set<string>>;
  /** A person's last contact (without it, null: the file's creation does not count here). */
  lastContactAt(trx: Knex.Transaction, structureId: string, personId: string): Promise<Date | null>;
}

const isOutcome = (v: object): v is DeadlineOutcome => 'status' in v && !('id' in v);

/**
 * The reminder rules of spec section 3 as their deadlines fall due (the worker runs each in the
 * deadline's transaction, `trx`): a follow-up due, overdue, escalated; a person without contact
 * for a while. Each re-checks its subject first, so a stale deadline is a no-op, and acts on a
 * unique key (the notification's, the follow-up's origin deadline), so a second run acts once.
 */
export function createFollowUpReminderService(deps: FollowUpReminderServiceDeps) {
  const { audit } = deps;
  const { followUps, persons, notifications } = deps;

  /** Why a person gets no reminders (gone, anonymised, closed, paused), or null if they do. */
  function notFollowed(person: ReminderState | null | undefined): DeadlineOutcome | null {
    const off = remindersOff(person);
    return off ? skipped(off) : null;
  }

  /** The person of a reminder, when still followed with reminders on; else why not. */
  async function followedPerson(trx: Knex.Transaction, structureId: string, personId: string) {
    const person = await persons.find(trx, structureId, personId);
    return notFollowed(person) ?? person!;
  }

  /** An in-app notice about a follow-up, at the deadline's moment, naming its person. */
  const notice = (
    deadline: Deadline,
    f: FollowUp,
    n: { recipientId: string; kind: string; title: string },
  ) => ({
    ...n,
    structureId: deadline.structureId,
    subjectType: 'follow_up',
    subjectId: f.id,
    dueMoment: deadline.dueAt,
    body: f.personLabel ? `Pour : ${f.personLabel}` : null,
    link: `/personnes/${f.personId}`,
  });
  const noticeAbout = (
    trx: Knex.Transaction,
    deadline: Deadline,
    f: FollowUp,
    n: { recipientId: string; kind: string; title: string },
  ) => notifications.notifyInTransaction(trx, notice(deadline, f, n));

  /** The one structure of a batch (the worker claims a batch within one structure). */
  function structureOf(batch: Deadline[]): string {
    const structureId = batch[0].structureId;
    if (batch.some((d) => d.structureId !== structureId))
      throw new Error('A batch of deadlines spans several structures');
    return structureId;
  }

  /**
   * 'follow_up.due' for a batch of deadlines of one structure, set-based: their follow-ups
   * locked and read in one statement (in id order), one look for newer deadlines, their
   * persons in one read, every notification in one insert. The outcomes, in the batch's order.
   */
  async function notifyDueMany(
    trx: Knex.Transaction,
    batch: Deadline[],
    now: Date,
  ): Promise<DeadlineOutcome[]> {
    if (batch.length === 0) return [];
    const { found, newer, people } = await batchState(trx, batch, now);
    const notices: ReturnType<typeof notice>[] = [];
    const outcomes = batch.map((deadline) => {
      const followUp = found.get(deadline.subjectId);
      if (!followUp) return skipped('follow-up not found');
      if (followUp.status !== 'open') return skipped(`follow-up is ${followUp.status}`);
      // A rescheduled follow-up has its own, newer deadline; this one is stale.
      if (new Date(followUp.dueAt).getTime() !== deadline.dueAt.getTime())
        return skipped('follow-up was rescheduled');
      // A reassigned one too, due at the same moment: the newest deadline is for its current
      // assignee, and this one was scheduled for the one before.
      if (newer.has(deadline.id))
        return skipped('follow-up was reassigned: a newer deadline notifies its assignee');
      const why = notFollowed(people.get(followUp.personId));
      if (why) return why;
      notices.push(
        notice(deadline, followUp, {
          recipientId: followUp.assigneeId,
          kind: FOLLOW_UP_DUE,
          title: `Suivi à faire : ${followUp.title}`,
        }),
      );
      return done();
    });
    await notifications.notifyManyInTransaction(trx, notices);
    return outcomes;
  }

  /**
   * What a batch of one structure's follow-up deadlines reads, set-based: the follow-ups locked
   * (locking each waits for a change of it — complete, reschedule, reassign — to commit, so what
   * follows reads it whole; see lockedOpen), the deadlines a newer one replaces, and the state
   * of their persons.
   */
  async function batchState(trx: Knex.Transaction, batch: Deadline[], now: Date) {
    const structureId = structureOf(batch);
    const ids = [...new Set(batch.map((d) => d.subjectId))];
    const found = new Map(
      (await followUps.lockMany(trx, structureId, ids, now)).map((f) => [f.id, f]),
    );
    const newer = await deps.newerDeadlines(trx, batch);
    const people = new Map(
      (
        await persons.reminderStates(trx, structureId, [
          ...new Set([...found.values()].map((f) => f.personId)),
        ])
      ).map((p) => [p.id, p]),
    );
    return { found, newer, people };
  }

  /**
   * The follow-up of a deadline, locked and still open. A change of the follow-up (complete,
   * reschedule, reassign) locks it first and then cancels its pending deadline, but leaves this
   * one pending when this job holds it. Locking the follow-up here waits for such a change to
   * commit, so what follows reads it whole.
   */
  async function lockedOpen(
    trx: Knex.Transaction,
    deadline: Deadline,
    now: Date,
  ): Promise<FollowUp | DeadlineOutcome> {
    const { structureId, subjectId } = deadline;
    if (!(await followUps.lock(trx, structureId, subjectId))) return skipped('follow-up not found');
    const followUp = await followUps.findById(trx, structureId, subjectId, now);
    if (!followUp) return skipped('follow-up not found');
    if (followUp.status !== 'open') return skipped(`follow-up is ${followUp.status}`);
    return followUp;
  }

  /**
   * `stillOverdue` for a batch of deadlines of one structure, set-based (see notifyDueMany):
   * for each deadline, its follow-up when the rule still applies, else why not.
   */
  async function stillOverdueMany(
    trx: Knex.Transaction,
    batch: Deadline[],
    now: Date,
  ): Promise<(FollowUp | DeadlineOutcome)[]> {
    const { found, newer, people } = await batchState(trx, batch, now);
    return batch.map((deadline) => {
      const followUp = found.get(deadline.subjectId);
      if (!followUp) return skipped('follow-up not found');
      if (followUp.status !== 'open') return skipped(`follow-up is ${followUp.status}`);
      if (newer.has(deadline.id))
        return skipped('follow-up was rescheduled or reassigned: a newer deadline holds the rule');
      if (followUp.dueAt.getTime() >= deadline.dueAt.getTime())
        return skipped('follow-up is not overdue');
      return notFollowed(people.get(followUp.personId)) ?? followUp;
    });
  }

  /** 'follow_up.overdue_reminder' for a batch (see remindOverdue), one notification insert. */
  async function remindOverdueMany(
    trx: Knex.Transaction,
    batch: Deadline[],
    now: Date,
  ): Promise<DeadlineOutcome[]> {
    if (batch.length === 0) return [];
    const checked = await stillOverdueMany(trx, batch, now);
    const calendars = new Map<string, BusinessCalendar>();
    for (const structureId of new Set(batch.map((d) => d.structureId)))
      calendars.set(structureId, (await deps.ruleSettings(trx, structureId)).calendar);
    const notices: ReturnType<typeof notice>[] = [];
    const outcomes = checked.map((f, i) => {
      if (isOutcome(f)) return f;
      const deadline = batch[i];
      const days = businessDaysBetween(
        calendars.get(deadline.structureId)!,
        f.dueAt,
        deadline.dueAt,
      );
      notices.push(
        notice(deadline, f, {
          recipientId: f.assigneeId,
          kind: NOTIFY_FOLLOW_UP_OVERDUE,
          title: `Suivi en retard de ${businessDays(days)} : ${f.title}`,
        }),
      );
      return done();
    });
    await notifications.notifyManyInTransaction(trx, notices);
    return outcomes;
  }

  /**
   * The follow-up of an overdue deadline, when the rule still applies: locked (a change of the
   * follow-up locks it first, so this waits for it), still open, this deadline its newest of the
   * kind (a reschedule or a reassignment plans new ones), and reminders on for the person (the
   * file neither closed nor anonymised, reminders not paused).
   */
  async function stillOverdue(
    trx: Knex.Transaction,
    deadline: Deadline,
    now: Date,
  ): Promise<FollowUp | DeadlineOutcome> {
    const followUp = await lockedOpen(trx, deadline, now);
    if (isOutcome(followUp)) return followUp;
    if (await deps.hasNewerDeadline(trx, deadline))
      return skipped('follow-up was rescheduled or reassigned: a newer deadline holds the rule');
    if (followUp.dueAt.getTime() >= deadline.dueAt.getTime())
      return skipped('follow-up is not overdue');
    const person = await followedPerson(trx, deadline.structureId, followUp.personId);
    if (isOutcome(person)) return person;
    return followUp;
  }

  /**
   * The person and référent of a no-contact deadline, when the rule still applies: the person
   * locked (a contact logged meanwhile locks it first, so this waits for it and then sees it),
   * reminders on (the file neither closed nor anonymised, reminders not paused), no contact since
   * the deadline was planned, and an active référent to tell.
   */
  async function stillWithoutContact(
    trx: Knex.Transaction,
    deadline: Deadline,
    days: number,
  ): Promise<{ personId: string; label: string; referent: UserRecord } | DeadlineOutcome> {
    const { structureId } = deadline;
    if (!(await persons.lock(trx, structureId, deadline.subjectId)))
      return skipped('person not found');
    const person = await followedPerson(trx, structureId, deadline.subjectId);
    if (isOutcome(person)) return person;
    if (await deps.hasNewerDeadline(trx, deadline))
      return skipped('a contact was logged: a newer deadline holds the rule');
    // The last contact only: the deadline was planned from the file's creation when it had none.
    const last = await deps.lastContactAt(trx, structureId, person.id);
    if (last && last.getTime() + days * DAY_MS > deadline.dueAt.getTime())
      return skipped('a contact was logged since');
    if (!person.referentId) return skipped('no référent');
    const referent = await deps.users.findActiveStaff(trx, structureId, person.referentId);
    if (!referent) return skipped('no active référent');
    return { personId: person.id, label: personLabel(person), referent };
  }

  return {
    /**
     * 'follow_up.due': the assignee gets an in-app notification at the due moment, from the
     * follow-up's current deadline only (a reschedule or a reassignment schedules a new one).
     * The in-app notification names the person (its recipient, the assignee, is staff of the
     * file's structure and may read it); emails never carry it.
     */
    async notifyDue(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      const [outcome] = await notifyDueMany(trx, [deadline], now);
      return outcome;
    },

    /** The same rule for a batch of due deadlines of one structure (the worker's batches). */
    notifyDueMany,

    /**
     * 'follow_up.overdue_reminder': a few business days past its due moment, the assignee is
     * reminded in the app. The notification names the person (its recipient may read the file).
     */
    async remindOverdue(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      const [outcome] = await remindOverdueMany(trx, [deadline], now);
      return outcome;
    },

    /** The same rule for a batch of overdue reminders of one structure (the worker's batches). */
    remindOverdueMany,

    /**
     * 'follow_up.escalate': later still, the managers leading the assignee's teams (else the
     * structure's managers) are told in the app (and the escalation stays in their daily digest
     * while the follow-up is open).
     */
    async escalateOverdue(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      const f = await stillOverdue(trx, deadline, now);
      if (isOutcome(f)) return f;
      // The teams service answers who: the managers leading the assignee's teams, else the
      // structure's active managers, so an escalation never goes nowhere.
      const managers = await deps.teams.managersOf(trx, deadline.structureId, f.assigneeId);
      if (managers.length === 0) return skipped('the structure has no active manager');
      const { calendar } = await deps.ruleSettings(trx, deadline.structureId);
      const days = businessDaysBetween(calendar, f.dueAt, deadline.dueAt);
      for (const m of managers) {
        await noticeAbout(trx, deadline, f, {
          recipientId: m.id,
          kind: NOTIFY_FOLLOW_UP_ESCALATED,
          title: `Suivi en retard de ${businessDays(days)} (${f.assigneeName ?? 'sans responsable'}) : ${f.title}`,
        });
      }
      return done();
    },

    /**
     * 'person.no_contact': an active person with no contact for 30 days (setting) gets a
     * "relancer" follow-up for the référent, due at once (its own due deadline then notifies
     * them). The follow-up carries this deadline's id and moment, the moment unique per person:
     * a second run, or a row of the rule written again at a moment it already acted on, plans
     * nothing.
     */
    async planNoContact(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      const s = await deps.ruleSettings(trx, deadline.structureId);
      const found = await stillWithoutContact(trx, deadline, s.noContactDays);
      if (isOutcome(found)) return found;
      if (await followUps.hasOrigin(trx, deadline.structureId, found.personId, deadline.dueAt))
        return skipped('follow-up already planned');
      const followUpId = await deps.followUpService.planInTransaction(
        trx,
        deps.outboxIn(trx),
        found.referent,
        {
          personId: found.personId,
          title: `Relancer : aucun contact depuis ${s.noContactDays} jours`,
          dueAt: now,
          assigneeId: found.referent.id,
          originDeadlineId: deadline.id,
          originDueAt: deadline.dueAt,
        },
      );
      await audit.record(trx, {
        actor: null,
        structureId: deadline.structureId,
        action: 'follow_up.create',
        subjectType: 'person',
        subjectId: found.personId,
        details: { followUpId, deadlineId: deadline.id, purpose: 'no_contact', by: 'system' },
      });
      return done();
    },

    /** 'person.suggest_close': after 90 days (setting) without contact, the référent is asked to close. */
    async suggestClose(trx: Knex.Transaction, deadline: Deadline): Promise<DeadlineOutcome> {
      const s = await deps.ruleSettings(trx, deadline.structureId);
      const found = await stillWithoutContact(trx, deadline, s.noContactCloseDays);
      if (isOutcome(found)) return found;
      await notifications.notifyInTransaction(trx, {
        structureId: deadline.structureId,
        recipientId: found.referent.id,
        kind: NOTIFY_SUGGEST_CLOSE,
        subjectType: 'person',
        subjectId: found.personId,
        dueMoment: deadline.dueAt,
        title: `Aucun contact depuis ${s.noContactCloseDays} jours : clore le dossier ?`,
        body: `Pour : ${found.label}`,
        link: `/personnes/${found.personId}`,
      });
      return done();
    },
  };
}

export type FollowUpReminderService = ReturnType<typeof createFollowUpReminderService>;
