/**
 * The replay twins of the bench (bench/run.ts, bench/server.ts): the statements the app sent
 * for one request, recorded by the app's server, replayed by the bare server on node-postgres.
 * This module holds what both sides share; it starts nothing.
 */

/** One statement as knex sent it: `?` placeholders, bindings in order. */
export interface Statement {
  sql: string;
  bindings: unknown[];
}

/** knex writes `?` placeholders; node-postgres takes `$n`. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * What a replay twin runs of a request the app served: every statement but the session's
 * writes (the app's touch of its session row comes at most once a minute). That is the
 * request's whole work as the app sent it to PostgreSQL: its session read (the session and its
 * user in one statement), its queries in the order they were sent, its transaction statements,
 * its audit insert.
 */
export function replayable(statements: Statement[]): Statement[] {
  return statements.filter((q) => !(isSessionStatement(q) && !/^\s*select\b/i.test(q.sql)));
}

/** Whether a statement reads or writes the session table. */
export const isSessionStatement = (q: Pick<Statement, 'sql'>) => /\b"?sessions"?\b/.test(q.sql);

/**
 * What the bench run says to a server: stop; (app) start or stop recording the statements of
 * the requests it serves, answered with those recorded; (bare) replay these statements at
 * `/replay/<key>`.
 */
export type BenchMessage =
  | 'stop'
  | { type: 'record'; on: boolean }
  | { type: 'replay'; key: string; statements: Statement[] };
