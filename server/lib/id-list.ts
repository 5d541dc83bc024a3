import type { Knex } from 'knex';

/**
 * `column = ANY(ids)`, for `.modify(idIn, 'p.id', ids)`: the ids travel as one array parameter.
 * knex's whereIn binds one parameter per id, and PostgreSQL's protocol counts a statement's
 * parameters in 16 bits: past 65 535 ids the statement cannot be sent at all. Every list of ids
 * that grows with the data (a structure's pending deadlines, the subjects they are about) goes
 * through here; a whereIn is for lists the code bounds (kinds, statuses, a batch).
 */
export function idIn(q: Knex.QueryBuilder, column: string, ids: readonly string[]): void {
  void q.whereRaw('?? = ANY(?::uuid[])', [column, [...ids]]);
}
