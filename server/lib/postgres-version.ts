import type { Knex } from 'knex';

/**
 * The oldest PostgreSQL aller-vers runs on: the structure-scoped foreign keys clear only the
 * referent with `ON DELETE SET NULL (referent_id)`, a column list PostgreSQL accepts from 15 on.
 * The embedded PGlite is PostgreSQL 18.
 */
const MIN_POSTGRES_MAJOR = 15;

/**
 * Refuses a server older than MIN_POSTGRES_MAJOR with a message that says so, instead of the
 * syntax error the first statement it does not know would give. `versionNum` is
 * `server_version_num` (150004 for 15.4), `version` the server's own `server_version`.
 */
export function assertPostgresVersion(versionNum: number, version: string): void {
  if (!Number.isInteger(versionNum) || versionNum < MIN_POSTGRES_MAJOR * 10000) {
    // "14.11 (Debian 14.11-1.pgdg120+1)" names the release in its first word.
    const release = version.trim().split(/\s+/)[0] || String(versionNum);
    throw new Error(
      `aller-vers needs PostgreSQL ${MIN_POSTGRES_MAJOR} or later; this server is ${release}`,
    );
  }
}

/** Reads the connected server's version (PostgreSQL or PGlite) and refuses one too old. */
export async function requireSupportedPostgres(knex: Knex): Promise<void> {
  const row = (await knex
    .select(
      knex.raw("current_setting('server_version_num') AS num"),
      knex.raw("current_setting('server_version') AS version"),
    )
    .first()) as { num: string; version: string };
  assertPostgresVersion(Number(row.num), row.version);
}
