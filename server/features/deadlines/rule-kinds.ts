/**
 * The deadline kinds of the reminder rules (spec section 3) beside the follow-up's due moment,
 * and the notifications they leave.
 */

/** Business days past a follow-up's due moment: a reminder to its assignee. */
export const FOLLOW_UP_OVERDUE_REMINDER = 'follow_up.overdue_reminder';
/** Business days past a follow-up's due moment: the managers leading the assignee's teams. */
export const FOLLOW_UP_ESCALATE = 'follow_up.escalate';
/** No contact for a while: a "relancer" follow-up for the référent. */
export const PERSON_NO_CONTACT = 'person.no_contact';
/** No contact for longer: the référent is asked whether to close the file. */
export const PERSON_SUGGEST_CLOSE = 'person.suggest_close';
/** Each working day at the digest time: one digest per user of the structure. */
export const DIGEST_DAILY = 'digest.daily';
/** A user's digest by email, sent through the email path (sent_emails, Message-ID per deadline). */
export const DIGEST_EMAIL = 'digest.email';

/** Notification kinds. */
export const NOTIFY_FOLLOW_UP_OVERDUE = 'follow_up.overdue';
export const NOTIFY_FOLLOW_UP_ESCALATED = 'follow_up.escalated';
export const NOTIFY_SUGGEST_CLOSE = 'person.suggest_close';
export const NOTIFY_DIGEST = 'digest';

/** The kinds planned from a person's last contact, re-planned when a contact is logged. */
export const NO_CONTACT_KINDS = [PERSON_NO_CONTACT, PERSON_SUGGEST_CLOSE];
