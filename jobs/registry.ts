import { FOLLOW_UP_DUE } from '../server/features/follow-ups/follow-up-schemas';
import { followUpDue, followUpDueBatch } from './follow-ups/follow-up-due';
import type { BatchProcessorRegistry, ProcessorRegistry } from './processor';
import {
  REFERRAL_ASK_OUTCOME,
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_EMAIL_WITHDRAWN,
  REFERRAL_ESCALATE_REQUESTER,
  REFERRAL_EXPIRE,
  REFERRAL_OUTCOME_FOLLOW_UP,
  REFERRAL_REMIND_PARTNER,
  REFERRAL_RESEND_LINK,
} from '../server/features/referrals/referral-schemas';
import { referralEscalateRequester } from './referrals/escalate-requester';
import {
  referralAskOutcome,
  referralEmailPartner,
  referralRemindPartner,
  referralResendLink,
} from './referrals/partner-link-email';
import { referralOutcomeFollowUp } from './referrals/outcome-follow-up';
import { referralEmailWithdrawn } from './referrals/partner-withdrawn-email';
import { referralExpire } from './referrals/referral-expire';
import { USER_PASSWORD_EMAIL } from '../server/features/users/password-links';
import { userPasswordEmail } from './users/password-link-email';
import {
  PARTNER_EMAIL_CHANGED,
  PARTNER_EMAIL_CONFIRM,
} from '../server/features/partners/partner-email-changes';
import { partnerEmailChangedNotice, partnerEmailConfirm } from './partners/partner-email';
import {
  DIGEST_DAILY,
  DIGEST_EMAIL,
  FOLLOW_UP_ESCALATE,
  FOLLOW_UP_OVERDUE_REMINDER,
  PERSON_NO_CONTACT,
  PERSON_SUGGEST_CLOSE,
} from '../server/features/deadlines/rule-kinds';
import {
  followUpEscalate,
  followUpOverdueReminder,
  followUpOverdueReminderBatch,
} from './follow-ups/follow-up-overdue';
import { personNoContact, personSuggestClose } from './persons/no-contact';
import { digestDaily, digestEmail } from './digests/digest';
import { RETENTION_NIGHTLY } from '../server/features/retention/retention-kinds';
import { retentionNightly } from './retention/retention-nightly';
import { OBSERVATION_REFRESH } from '../server/features/observation/observation-kinds';
import { observationRefresh } from './observation/observation-refresh';
import { REPORT_ESCALATE } from '../server/features/reports/report-schemas';
import { reportEscalate } from './reports/report-escalate';

/**
 * Every deadline kind and its processor, in one place. The job name is the kind; a job whose kind
 * is not listed here fails at once without retries. Adding a kind: one processor file, one line.
 */
export const processors: ProcessorRegistry = Object.freeze({
  [FOLLOW_UP_DUE]: followUpDue,
  [REFERRAL_EMAIL_PARTNER]: referralEmailPartner,
  [REFERRAL_ASK_OUTCOME]: referralAskOutcome,
  [REFERRAL_OUTCOME_FOLLOW_UP]: referralOutcomeFollowUp,
  [REFERRAL_EXPIRE]: referralExpire,
  [REFERRAL_REMIND_PARTNER]: referralRemindPartner,
  [REFERRAL_RESEND_LINK]: referralResendLink,
  [REFERRAL_ESCALATE_REQUESTER]: referralEscalateRequester,
  [REFERRAL_EMAIL_WITHDRAWN]: referralEmailWithdrawn,
  [USER_PASSWORD_EMAIL]: userPasswordEmail,
  [PARTNER_EMAIL_CONFIRM]: partnerEmailConfirm,
  [PARTNER_EMAIL_CHANGED]: partnerEmailChangedNotice,
  [FOLLOW_UP_OVERDUE_REMINDER]: followUpOverdueReminder,
  [FOLLOW_UP_ESCALATE]: followUpEscalate,
  [PERSON_NO_CONTACT]: personNoContact,
  [PERSON_SUGGEST_CLOSE]: personSuggestClose,
  [DIGEST_DAILY]: digestDaily,
  [DIGEST_EMAIL]: digestEmail,
  [RETENTION_NIGHTLY]: retentionNightly,
  [REPORT_ESCALATE]: reportEscalate,
  [OBSERVATION_REFRESH]: observationRefresh,
});

/**
 * The kinds delivered in batches (jobs/README.md, "Batched delivery"): the job of one due
 * deadline also delivers other due deadlines of its kind and structure, in one transaction, with
 * a set-based processor (one query per table for the whole batch). A kind listed here keeps its
 * one-deadline processor above, used when a deadline is delivered alone. Email kinds are not
 * listed: they send inside their transaction, one message each.
 */
export const batchProcessors: BatchProcessorRegistry = Object.freeze({
  [FOLLOW_UP_DUE]: followUpDueBatch,
  [FOLLOW_UP_OVERDUE_REMINDER]: followUpOverdueReminderBatch,
});
