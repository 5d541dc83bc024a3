import type { Knex } from 'knex';

/**
 * Data: the referent's "update the right" follow-up became a deadline kind of its own
 * ('referral.outcome_follow_up'), scheduled beside 'referral.ask_outcome' when a partner accepts.
 * An outcome question scheduled before that change has no sibling and would no longer plan the
 * follow-up, so each one still waiting gets it, at the same moment. So does a question whose
 * retries ran out (failed): its follow-up rolled back with the failed send and was never planned.
 * Only for referrals still open and without that follow-up; the processor re-checks both anyway.
 * The rows are not enqueued: the worker's relay enqueues them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    INSERT INTO deadlines (structure_id, kind, subject_type, subject_id, due_at)
    SELECT d.structure_id, 'referral.outcome_follow_up', d.subject_type, d.subject_id, d.due_at
      FROM deadlines d
      JOIN referrals r ON r.id = d.subject_id
     WHERE d.kind = 'referral.ask_outcome'
       AND d.subject_type = 'referral'
       AND d.status IN ('pending', 'failed')
       AND r.status IN ('accepted', 'in_progress', 'on_hold')
       AND NOT EXISTS (SELECT 1 FROM referral_follow_ups f
                        WHERE f.referral_id = d.subject_id AND f.purpose = 'update_right')
       AND NOT EXISTS (SELECT 1 FROM deadlines s
                        WHERE s.subject_type = 'referral' AND s.subject_id = d.subject_id
                          AND s.kind = 'referral.outcome_follow_up')`);
}

/**
 * The code before this change knows no such kind (its job would fail without retries) and plans
 * the follow-up from the outcome question again: the siblings still waiting go.
 */
export async function down(knex: Knex): Promise<void> {
  await knex('deadlines')
    .where({ kind: 'referral.outcome_follow_up', status: 'pending' })
    .update({ status: 'cancelled', processed_at: knex.fn.now() });
}
