import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import { BusinessRuleError, NotFoundError } from '../../lib/errors';
import type { RequestContext } from '../audit/audit-trail';
import type { IdempotencyRepository, TakenKey } from './idempotency-repository';

export interface IdempotencyServiceDeps {
  clock: Clock;
  keys: IdempotencyRepository;
}

/** What a repeat needs to be answered: the action and input it must match, and the answer. */
export interface Repeat<T, K extends Record<string, unknown>> {
  /** The creation's audit action: a key taken for one action is no key for another. */
  action: string;
  /** What was asked (the subject's id and the parsed body): a repeat must ask the same. */
  input: unknown;
  /** The answer to a repeat, from what the first kept and its moment (the injected clock). */
  replay: (kept: K, at: Date) => Promise<T>;
}

/** A creation made once per key. */
export interface Creation<T, K extends Record<string, unknown>> extends Repeat<T, K> {
  /** Creates, the first time: in the transaction the key is taken in. */
  create: () => Promise<T>;
  /** What the key keeps of what was created: its ids, never its content (personal data). */
  keep: (created: T) => K;
}

/**
 * The keep and replay of a creation answered by the row it made, found again by id: the key
 * keeps `{ [field]: id }` and a repeat reads the row (404 `what` when it has gone since).
 */
export function replayById<T extends { id: string }, F extends string>(
  field: F,
  what: string,
  find: (id: string) => Promise<T | null | undefined>,
): Pick<Creation<T, Record<F, string>>, 'keep' | 'replay'> {
  return {
    keep: (created) => ({ [field]: created.id }) as Record<F, string>,
    async replay(kept) {
      const found = await find(kept[field]);
      if (!found) throw new NotFoundError(what);
      return found;
    },
  };
}

const KEY_REUSED =
  'This idempotency key was used for another request: send a new key with each new creation';

/** The SHA-256 of an action and its input (dates as ISO strings, keys in the schema's order). */
const fingerprintOf = (action: string, input: unknown) =>
  crypto
    .createHash('sha256')
    .update(JSON.stringify([action, input]))
    .digest('hex');

/**
 * Creations made once per key (a page form's hidden field, the API's Idempotency-Key header:
 * `RequestContext.idempotencyKey`). The key is taken in the transaction that creates, before
 * anything else is locked, and keeps the ids of what was created: a repeat with it creates
 * nothing and answers with the same object, as the first did; a repeat in flight at the same
 * time waits on the key's row for the first's commit, then does the same. A key sent with
 * another action or input is a 422 `idempotency_key_reused`. Without a key, a creation is made
 * as it always was.
 */
export function createIdempotencyService({ clock, keys }: IdempotencyServiceDeps) {
  function answer<T, K extends Record<string, unknown>>(
    taken: TakenKey,
    fingerprint: string,
    r: Repeat<T, K>,
  ): Promise<T> {
    // A key's row and its result are written in one transaction, so another request never
    // sees a row without a result; were one there, it made nothing to answer with.
    if (taken.fingerprint !== fingerprint || taken.result === null)
      throw new BusinessRuleError('idempotency_key_reused', KEY_REUSED);
    return r.replay(taken.result as K, taken.createdAt);
  }

  return {
    /** Runs the creation once per key, in the caller's transaction (see above). */
    async once<T, K extends Record<string, unknown>>(
      trx: Knex.Transaction,
      actor: Actor,
      ctx: RequestContext,
      c: Creation<T, K>,
    ): Promise<T> {
      const key = ctx.idempotencyKey;
      if (key === undefined) return c.create();
      const fingerprint = fingerprintOf(c.action, c.input);
      for (;;) {
        const claim = {
          userId: actor.id,
          structureId: actor.structureId,
          key,
          action: c.action,
          fingerprint,
          at: clock.now(),
        };
        if (await keys.claim(trx, claim)) {
          const created = await c.create();
          await keys.keep(trx, actor.id, key, c.keep(created));
          return created;
        }
        const taken = await keys.find(trx, actor.id, key);
        // A row purged between the two statements: the key is free again.
        if (taken) return answer(taken, fingerprint, c);
      }
    },

    /**
     * The answer to a repeat when the request's key already made its creation, else null: for
     * a page that reads before it creates (the intake's "Déjà connu·e ?" would find the file
     * its first post made).
     */
    async repeated<T, K extends Record<string, unknown>>(
      db: Knex,
      actor: Actor,
      ctx: RequestContext,
      r: Repeat<T, K>,
    ): Promise<T | null> {
      const key = ctx.idempotencyKey;
      if (key === undefined) return null;
      const taken = await keys.find(db, actor.id, key);
      return taken ? answer(taken, fingerprintOf(r.action, r.input), r) : null;
    },

    /** Removes the structure's keys older than the keeping time; how many (the retention run). */
    purge: (db: Knex | Knex.Transaction, structureId: string, before: Date) =>
      keys.purge(db, structureId, before),

    /** How many keys the purge would remove (the retention dry run). */
    countOlderThan: (db: Knex | Knex.Transaction, structureId: string, before: Date) =>
      keys.countOlderThan(db, structureId, before),
  };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;
