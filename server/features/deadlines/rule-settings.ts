import type { Knex } from 'knex';

/** The durations and moments of the reminder rules (spec section 3) for one structure. */
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
});

/** The same settings for every structure (the demo seed, tests). */
export const fixedRuleSettings =
  (settings: RuleSettings = DEFAULT_RULE_SETTINGS): RuleSettingsSource =>
  async () =>
    settings;

/** Today's source: the deployment's configuration, the same for every structure. */
export function ruleSettingsFromConfig(config: {
  FOLLOW_UP_REMINDER_DAYS: number;
  FOLLOW_UP_ESCALATION_DAYS: number;
  NO_CONTACT_DAYS: number;
  NO_CONTACT_CLOSE_DAYS: number;
  DIGEST_TIME: string;
}): RuleSettingsSource {
  const settings: RuleSettings = Object.freeze({
    followUpReminderDays: config.FOLLOW_UP_REMINDER_DAYS,
    followUpEscalationDays: config.FOLLOW_UP_ESCALATION_DAYS,
    noContactDays: config.NO_CONTACT_DAYS,
    noContactCloseDays: config.NO_CONTACT_CLOSE_DAYS,
    digestTime: config.DIGEST_TIME,
  });
  return async () => settings;
}
