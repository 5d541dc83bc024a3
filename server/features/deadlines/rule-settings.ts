import type { Knex } from 'knex';
import { createBusinessCalendar, type BusinessCalendar } from '../../lib/calendar';

/** The durations, moments and calendar of the reminder rules (spec section 3) for one structure. */
export interface RuleSettings {
  /** Business days past a follow-up's due moment: a reminder to its assignee. */
  followUpReminderDays: number;
  /** Business days past a follow-up's due moment: an escalation to the team's managers. */
  followUpEscalationDays: number;
  /** Days without contact: a "relancer" follow-up for the référent. */
  noContactDays: number;
  /** Days without contact: a suggestion to close the file. */
  noContactCloseDays: number;
  /** "HH:MM", Europe/Paris: the daily digest, on working days. */
  digestTime: string;
  /** The structure's business calendar: its working hours and public holidays. */
  calendar: BusinessCalendar;
}

/**
 * Where the rules read their durations: the one function to swap for per-structure settings.
 * It takes the transaction the rule runs in, so a settings table can be read there.
 */
export type RuleSettingsSource = (
  db: Knex | Knex.Transaction,
  structureId: string,
) => Promise<RuleSettings>;

/** The spec's defaults (section 3), as the configuration's defaults are. */
export const DEFAULT_RULE_SETTINGS: RuleSettings = Object.freeze({
  followUpReminderDays: 3,
  followUpEscalationDays: 10,
  noContactDays: 30,
  noContactCloseDays: 90,
  digestTime: '08:30',
  calendar: createBusinessCalendar(),
});

/** The same settings for every structure (the demo seed, tests). */
export const fixedRuleSettings =
  (settings: RuleSettings = DEFAULT_RULE_SETTINGS): RuleSettingsSource =>
  async () =>
    settings;

/**
 * The source in force: each structure's settings (`GET/PATCH /api/settings`), the spec's
 * defaults where nothing was set. A change re-plans the pending deadlines (reminder-replanner).
 */
export function ruleSettingsFrom(settings: {
  rulesOf(
    db: Knex | Knex.Transaction,
    structureId: string,
  ): Promise<{ settings: Omit<RuleSettings, 'calendar'>; calendar: BusinessCalendar }>;
}): RuleSettingsSource {
  return async (db, structureId) => {
    const { settings: s, calendar } = await settings.rulesOf(db, structureId);
    return {
      followUpReminderDays: s.followUpReminderDays,
      followUpEscalationDays: s.followUpEscalationDays,
      noContactDays: s.noContactDays,
      noContactCloseDays: s.noContactCloseDays,
      digestTime: s.digestTime,
      calendar,
    };
  };
}
