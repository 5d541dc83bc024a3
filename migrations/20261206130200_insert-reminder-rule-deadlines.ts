import type { Knex } from 'knex';
import { createBusinessCalendar } from '../server/lib/calendar';

/**
 * Data: the reminder rules that came with issue 10 (overdue reminder and escalation of a
 * follow-up, no contact for 30 and 90 days) are planned for what existed before them, with the
 * default durations of that time (3 and 10 business days, 30 and 90 days): per-structure
 * settings re-plan pending deadlines themselves. Only moments still to come: a rule whose moment
 * already passed would fire for every old file at once on the first morning (the backlog shows
 * those), so it is left out. The rows are not enqueued: the worker's relay enqueues them.
 */
const REMINDER_DAYS = 3;
const ESCALATION_DAYS = 10;
const BATCH = 2000;

export async function up(knex: Knex): Promise<void> {
  const calendar = createBusinessCalendar();
  const now = new Date();
  // Open follow-ups due within the last 30 days or later: older ones are past both moments.
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows: { id: string; structure_id: string; due_at: Date }[] = await knex('follow_ups')
      .where({ status: 'open' })
      .andWhere('due_at', '>', new Date(now.getTime() - 30 * 86_400_000))
      .andWhere('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .select('id', 'structure_id', 'due_at');
    if (rows.length === 0) break;
    after = rows[rows.length - 1].id;
    const inserts = [];
    for (const f of rows) {
      for (const [kind, days] of [
        ['follow_up.overdue_reminder', REMINDER_DAYS],
        ['follow_up.escalate', ESCALATION_DAYS],
      ] as const) {
        const dueAt = calendar.nextWorkingMoment(
          calendar.addBusinessDays(new Date(f.due_at), days),
        );
        if (dueAt > now)
          inserts.push({
            structure_id: f.structure_id,
            kind,
            subject_type: 'follow_up',
            subject_id: f.id,
            due_at: dueAt,
          });
      }
    }
    if (inserts.length) await knex('deadlines').insert(inserts);
    if (rows.length < BATCH) break;
  }

  // Followed persons: from their last contact, or the file's creation.
  for (const [kind, days] of [
    ['person.no_contact', 30],
    ['person.suggest_close', 90],
  ] as const) {
    await knex.raw(
      `INSERT INTO deadlines (structure_id, kind, subject_type, subject_id, due_at)
       SELECT p.structure_id, :kind, 'person', p.id, lc.last_at + make_interval(days => :days)
         FROM persons p
         CROSS JOIN LATERAL (
           SELECT coalesce((SELECT max(c.occurred_at) FROM contacts c WHERE c.person_id = p.id),
                           p.created_at) AS last_at
         ) lc
        WHERE p.closed_at IS NULL AND p.anonymised_at IS NULL
          AND lc.last_at + make_interval(days => :days) > now()
          AND NOT EXISTS (SELECT 1 FROM deadlines d
                           WHERE d.subject_type = 'person' AND d.subject_id = p.id AND d.kind = :kind)`,
      { kind, days },
    );
  }
}

/** The code before this change knows none of these kinds: their pending rows go. */
export async function down(knex: Knex): Promise<void> {
  await knex('deadlines')
    .whereIn('kind', [
      'follow_up.overdue_reminder',
      'follow_up.escalate',
      'person.no_contact',
      'person.suggest_close',
      'digest.daily',
      'digest.email',
    ])
    .andWhere({ status: 'pending' })
    .update({ status: 'cancelled', processed_at: knex.fn.now() });
}
