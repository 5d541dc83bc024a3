import type { Knex } from 'knex';

/**
 * Reading the plans PostgreSQL makes for the very statements the code sends (no timing): the
 * plan tests capture them through knex's query events, then EXPLAIN them.
 */

/** A node of an `EXPLAIN (FORMAT JSON)` plan. */
export type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

/** A plan's nodes, the root first. */
export const planNodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(planNodes)];

/** A statement as knex sent it. */
export type Sent = { sql: string; bindings: readonly Knex.RawBinding[] };

/**
 * The statements sent through `knex` while `send` runs whose SQL matches `match`; `check` is
 * given what `send` resolved to.
 */
export async function capture<R>(
  knex: Knex,
  match: RegExp,
  send: () => Promise<R>,
  check: (res: R) => void = () => undefined,
): Promise<Sent[]> {
  const sent: Sent[] = [];
  const listener = (q: { sql: string; bindings?: readonly Knex.RawBinding[] }) => {
    if (match.test(q.sql)) sent.push({ sql: q.sql, bindings: q.bindings ?? [] });
  };
  knex.on('query', listener);
  try {
    check(await send());
  } finally {
    knex.removeListener('query', listener);
  }
  return sent;
}

/**
 * A captured statement's SQL with pg's numbered placeholders, in order, back to knex's; a question
 * mark of the SQL itself (jsonb's `?|` operator) escaped, so knex does not take it for one.
 */
export const knexSql = (q: Sent) => q.sql.replace(/\?/g, '\\?').replace(/\$\d+/g, '?');

/** The plan PostgreSQL makes for a captured statement on `db` (a transaction sees its own rows). */
export async function explain(db: Knex | Knex.Transaction, q: Sent): Promise<PlanNode> {
  const plan = (await db.raw(`EXPLAIN (FORMAT JSON) ${knexSql(q)}`, q.bindings)).rows;
  return plan[0]['QUERY PLAN'][0].Plan;
}
