import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';

type Db = Knex | Knex.Transaction;

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

interface Row {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const date = (d: Date | null) => (d ? new Date(d) : null);
const toToken = (r: Row): ApiToken => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  createdAt: new Date(r.created_at),
  expiresAt: date(r.expires_at),
  lastUsedAt: date(r.last_used_at),
  revokedAt: date(r.revoked_at),
});

/** The user a live token stands for, as the Bearer check reads it in one query. */
export interface TokenHolder {
  tokenId: string;
  lastUsedAt: Date | null;
  user: Actor;
}

const COLUMNS = ['id', 'name', 'prefix', 'created_at', 'expires_at', 'last_used_at', 'revoked_at'];

/**
 * A live token, the one rule: neither revoked nor expired at `now`. What the Bearer check
 * accepts, what the list shows and what the cap counts.
 */
const whereLive = (q: Knex.QueryBuilder, now: Date, table = 'api_tokens') =>
  q
    .whereNull(`${table}.revoked_at`)
    .where((w) => w.whereNull(`${table}.expires_at`).orWhere(`${table}.expires_at`, '>', now));

/** API tokens, always read through their owner: another user's token is not found. */
export function createApiTokenRepository() {
  const repo = {
    /**
     * Serialises the creations of one user's tokens until the transaction ends, so the cap on
     * live tokens is counted by one creation at a time (two parallel ones would each count the
     * same rows and both pass).
     */
    async lockOwner(trx: Knex.Transaction, userId: string): Promise<void> {
      await trx.raw("SELECT pg_advisory_xact_lock(hashtext('api_tokens.owner'), hashtext(?))", [
        userId,
      ]);
    },

    /** The user's live tokens at `now`, newest first. */
    async listLive(db: Db, structureId: string, userId: string, now: Date): Promise<ApiToken[]> {
      const rows = await whereLive(
        db('api_tokens').where({ structure_id: structureId, user_id: userId }),
        now,
      )
        .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }])
        .select(COLUMNS);
      return rows.map(toToken);
    },

    async insert(
      db: Db,
      t: {
        structureId: string;
        userId: string;
        name: string;
        prefix: string;
        tokenHash: string;
        createdAt: Date;
        expiresAt: Date | null;
      },
    ): Promise<ApiToken> {
      const [row] = await db('api_tokens')
        .insert({
          structure_id: t.structureId,
          user_id: t.userId,
          name: t.name,
          prefix: t.prefix,
          token_hash: t.tokenHash,
          created_at: t.createdAt,
          expires_at: t.expiresAt,
        })
        .returning(COLUMNS);
      return toToken(row);
    },

    async findOwn(
      db: Db,
      structureId: string,
      userId: string,
      id: string,
    ): Promise<ApiToken | null> {
      const row = await db('api_tokens')
        .where({ id, structure_id: structureId, user_id: userId })
        .first(COLUMNS);
      return row ? toToken(row) : null;
    },

    async revoke(db: Db, id: string, at: Date): Promise<void> {
      await db('api_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: at });
    },

    /**
     * The holder of a token that is neither revoked nor expired, whose user is enabled and still a
     * partner user; null otherwise.
     */
    async findLive(db: Db, tokenHash: string, now: Date): Promise<TokenHolder | null> {
      const row = await whereLive(
        db('api_tokens as t')
          .join('users as u', function () {
            this.on('u.id', 't.user_id').andOn('u.structure_id', 't.structure_id');
          })
          .where('t.token_hash', tokenHash),
        now,
        't',
      )
        .whereNull('u.disabled_at')
        .where('u.role', 'partner')
        .whereNotNull('u.partner_id')
        .first(
          't.id as token_id',
          't.last_used_at',
          'u.id',
          'u.structure_id',
          'u.role',
          'u.partner_id',
          'u.name',
          'u.email',
        );
      if (!row) return null;
      return {
        tokenId: row.token_id,
        lastUsedAt: date(row.last_used_at),
        user: {
          id: row.id,
          structureId: row.structure_id,
          role: row.role,
          partnerId: row.partner_id,
          name: row.name,
          email: row.email,
        },
      };
    },

    async touch(db: Db, id: string, at: Date): Promise<void> {
      await db('api_tokens').where({ id }).update({ last_used_at: at });
    },
  };
  return repo;
}

export type ApiTokenRepository = ReturnType<typeof createApiTokenRepository>;
