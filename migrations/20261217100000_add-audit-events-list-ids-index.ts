import type { Knex } from 'knex';

/**
 * A person's audit events include the list reads that showed them: a search, the duplicates
 * check, a follow-up list, a backlog page (person ids in `details.ids`), a referral list or a
 * report list (their referrals' or reports' ids there). Those events have no subject, so the
 * person filter of `GET /api/audit` and the right-of-access export looks into their ids: this GIN
 * index answers it. It is partial, on the list reads only, so the other events (every
 * single-record read writes one) are not indexed by it. The actions are written out, as a
 * migration does not change with the code: they are `LIST_READ_ACTIONS` (audit-repository.ts)
 * as of this migration, and `audit-plan.test.ts` fails if the two lists differ.
 *
 * Creating an index takes no row trigger: the append-only table's guard (UPDATE, DELETE) and its
 * TRUNCATE guard let it through. The table holds a year of events, so the build may outlast the
 * app's statement timeout: lifted for this migration's own transaction.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('SET LOCAL statement_timeout = 0');
  await knex.raw(`
    CREATE INDEX audit_events_list_ids
      ON audit_events USING gin ((details -> 'ids'))
      WHERE action IN ('person.search', 'person.duplicates', 'follow_up.list', 'backlog.items',
                       'referral.list', 'report.list')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS audit_events_list_ids');
}
