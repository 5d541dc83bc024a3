import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { toActor, type Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { addressKey, consumeOrRefuse } from '../../lib/rate-limit';
import { BusinessRuleError, NotFoundError, UnauthorizedError } from '../../lib/errors';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { UnitOfWork } from '../deadlines/outbox';
import { type ApiTokenRepository, type ApiToken } from './api-token-repository';
import type { CreateTokenInput } from './api-token-schemas';

export type { ApiToken } from './api-token-repository';

/** Every token starts so: a secret scanner and a person reading a log line both recognise it. */
export const TOKEN_PREFIX = 'av_';
/** 256 random bits, base64url: 43 characters after the prefix. */
const TOKEN_FORMAT = /^av_[A-Za-z0-9_-]{43}$/;
/** A partner user's live tokens at most: enough for a few systems, not a pile of forgotten ones. */
export const MAX_LIVE_TOKENS = 20;
/** Last use is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export interface ApiTokenServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  clock: Clock;
  /** Failed Bearer presentations, counted per address as failed logins are. */
  failures: RateLimiterAbstract;
  tokens: ApiTokenRepository;
}

/**
 * Personal API tokens for partner systems (spec §5): created and revoked by the partner user
 * (page or API), shown once, only their SHA-256 kept; a token acts as its user on the partner's
 * referrals only (the endpoints marked `tokens: true`). A revoked or expired token, or one whose
 * user is disabled or no longer a partner user, is refused (401).
 */
export function createApiTokenService(deps: ApiTokenServiceDeps) {
  const { audit: trail } = deps;
  const { tokens } = deps;
  const { knex, uow, clock, failures } = deps;

  const audit = (
    db: Knex | Knex.Transaction,
    actor: Actor,
    action: string,
    token: ApiToken,
    ctx: RequestContext,
  ) =>
    trail.record(db, {
      actor,
      structureId: actor.structureId,
      action,
      subjectType: 'api_token',
      subjectId: token.id,
      ip: ctx.ip,
      details: { name: token.name, prefix: token.prefix },
    });

  /**
   * A wrong token counts against the caller's address; over the limit, 429 instead of 401. Only
   * failures count and are throttled: a live token from a throttled address (a NAT, a proxy
   * shared with whoever floods) still works, and guessing one of 256 bits is hopeless anyway.
   */
  async function refuse(ip: string, message: string): Promise<never> {
    await consumeOrRefuse(
      failures,
      addressKey(ip),
      'Too many invalid tokens; wait a few minutes and try again',
    );
    throw new UnauthorizedError(message, 'invalid_token');
  }

  return {
    /** The caller's live tokens: a revoked or expired one no longer works, and is not shown. */
    async list(actor: Actor) {
      const live = await tokens.listLive(knex, actor.structureId, actor.id, clock.now());
      return { items: live, total: live.length, page: 1, pageSize: MAX_LIVE_TOKENS };
    },

    async create(
      actor: Actor,
      input: CreateTokenInput,
      ctx: RequestContext,
    ): Promise<ApiToken & { token: string }> {
      return uow(async (trx) => {
        const now = clock.now();
        await tokens.lockOwner(trx, actor.id);
        const live = await tokens.listLive(trx, actor.structureId, actor.id, now);
        if (live.length >= MAX_LIVE_TOKENS)
          throw new BusinessRuleError(
            'too_many_tokens',
            `At most ${MAX_LIVE_TOKENS} live tokens; revoke one first`,
          );
        const token = `${TOKEN_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
        const saved = await tokens.insert(trx, {
          structureId: actor.structureId,
          userId: actor.id,
          name: input.name,
          prefix: token.slice(0, TOKEN_PREFIX.length + 6),
          tokenHash: hashToken(token),
          createdAt: now,
          expiresAt: input.expiresInDays
            ? new Date(now.getTime() + input.expiresInDays * DAY_MS)
            : null,
        });
        await audit(trx, actor, 'api_token.created', saved, ctx);
        return { ...saved, token };
      });
    },

    /** Revokes one of the caller's own tokens; another user's is not found (404). */
    async revoke(actor: Actor, id: string, ctx: RequestContext): Promise<void> {
      await uow(async (trx) => {
        const token = await tokens.findOwn(trx, actor.structureId, actor.id, id);
        if (!token) throw new NotFoundError('Token');
        if (token.revokedAt) return;
        await tokens.revoke(trx, id, clock.now());
        await audit(trx, actor, 'api_token.revoked', token, ctx);
      });
    },

    /** The actor a Bearer token stands for; a wrong one is refused (401, or 429 past the limit). */
    async authenticate(token: string, ip: string): Promise<Actor> {
      if (!TOKEN_FORMAT.test(token)) return refuse(ip, 'The API token is not valid');
      const now = clock.now();
      const holder = await tokens.findLive(knex, hashToken(token), now);
      if (!holder) return refuse(ip, 'The API token is revoked, expired or not valid');
      if (!holder.lastUsedAt || now.getTime() - holder.lastUsedAt.getTime() >= TOUCH_EVERY_MS)
        await tokens.touch(knex, holder.tokenId, now);
      return toActor(holder.user);
    },
  };
}

export type ApiTokenService = ReturnType<typeof createApiTokenService>;
