import type { Knex } from 'knex';

/**
 * The week rows of the files and follow-ups counted before the triggers wrote them: the sums of
 * their day rows (the day rows are exact, the triggers keep them), writers kept out meanwhile. No
 * rebuild from persons: the day rows stay as they are (a rebuild would rewrite them all).
 */
/** One statement each: the embedded PGlite prepares every statement and takes one at a time. */
const weeks = (table: string, source: string, groups: string[], day: string, value: string) => [
  `LOCK TABLE ${source} IN SHARE MODE`,
  `DELETE FROM ${table} WHERE week`,
  `INSERT INTO ${table} (structure_id, ${groups.join(', ')}, week, ${day}, ${value})
  SELECT structure_id, ${groups.join(', ')}, true, ${day} - (extract(isodow FROM ${day})::int - 1),
         sum(${value})
    FROM ${table} WHERE NOT week AND ${day} IS NOT NULL
   GROUP BY 1, ${groups.map((_, i) => i + 2).join(', ')}, ${groups.length + 3}
  HAVING sum(${value}) <> 0`,
];

export async function up(knex: Knex): Promise<void> {
  // A migration runs in one transaction: the locks hold until its end.
  for (const statement of [
    ...weeks('backlog_contact_counts', 'persons', ['dimension', 'group_id'], 'last_day', 'persons'),
    ...weeks('backlog_follow_up_counts', 'follow_ups', ['assignee_id'], 'due_day', 'follow_ups'),
  ])
    await knex.raw(statement);
}

export async function down(): Promise<void> {
  // The previous migration's rollback deletes the week rows.
}
