/**
 * The path status is derived from events, never stored: closed if closed, supported while a
 * referral is in progress, in contact once a contact reached the person, identified before.
 * One SQL expression, so search filters and reads agree. `p` is the persons alias.
 */
export const PERSON_STATUS_SQL = `(CASE
  WHEN p.closed_at IS NOT NULL THEN 'closed'
  WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = p.id AND r.status IN ('requested', 'accepted', 'in_progress', 'on_hold'))
    THEN 'supported'
  WHEN EXISTS (SELECT 1 FROM contacts c WHERE c.person_id = p.id AND c.outcome IN ('reached', 'appointment_set'))
    THEN 'in_contact'
  ELSE 'identified'
END)`;
