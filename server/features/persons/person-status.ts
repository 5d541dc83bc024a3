import { REACHED_OUTCOMES_SQL } from '../contacts/contact-schemas';
import { OPEN_STATUSES, sqlStatusList } from '../referrals/referral-state';
import { ENDED_RIGHT_STATUSES } from '../rights/right-schemas';

const ENDED = ENDED_RIGHT_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * The path status is derived from events, never stored. One SQL expression, so search filters
 * and reads agree. `p` is the persons alias. In order:
 * - closed: closed with a reason (clearing the reason reopens the path);
 * - supported: a referral open (requested, accepted, in progress, on hold) or a claim in
 *   progress;
 * - resolved: at least one right tracked and every tracked right ended (obtained, refused,
 *   abandoned), none left not claimed;
 * - in_contact: a contact reached the person (reached, appointment set);
 * - identified: before that.
 */
export const PERSON_STATUS_SQL = `(CASE
  WHEN p.closed_at IS NOT NULL THEN 'closed'
  WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = p.id AND r.status IN ${sqlStatusList(OPEN_STATUSES)})
    OR EXISTS (SELECT 1 FROM person_rights pr WHERE pr.person_id = p.id AND pr.status = 'claim_in_progress')
    THEN 'supported'
  WHEN EXISTS (SELECT 1 FROM person_rights pr WHERE pr.person_id = p.id)
    AND NOT EXISTS (SELECT 1 FROM person_rights pr WHERE pr.person_id = p.id AND pr.status NOT IN (${ENDED}))
    THEN 'resolved'
  WHEN EXISTS (SELECT 1 FROM contacts c WHERE c.person_id = p.id AND c.outcome IN ${REACHED_OUTCOMES_SQL})
    THEN 'in_contact'
  ELSE 'identified'
END)`;
