import type { Knex } from 'knex';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { sessionFactsOf, type Actor, type Role } from '../../auth/actor';
import type { Clock } from '../../lib/clock';
import type { Cipher } from '../../lib/crypto';
import { ConflictError, NotFoundError, UnauthorizedError } from '../../lib/errors';
import { consumeOrRefuse } from '../../lib/rate-limit';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { UnitOfWork } from '../deadlines/outbox';
import type { SettingsService } from '../settings/settings-service';
import type { UserService } from '../users/user-service';
import { type TwoFactorRepository, type TwoFactorRecord } from './two-factor-repository';
import {
  hashRecoveryCode,
  newRecoveryCode,
  newTotpSecret,
  normaliseRecoveryCode,
  otpauthUri,
  qrSvgDataUri,
  totpStep,
} from './totp';

/** The roles a structure's `requireTwoFactor` setting applies to. */
export const TWO_FACTOR_REQUIRED_ROLES: readonly Role[] = ['manager', 'admin'];
export const RECOVERY_CODE_COUNT = 10;

export interface TwoFactorStatus {
  enabled: boolean;
  enabledAt: Date | null;
  recoveryCodesLeft: number;
  /** Whether the structure requires it of this user (a manager or an admin). */
  required: boolean;
}

export interface Enrolment {
  secret: string;
  otpauthUri: string;
  /** The QR code of `otpauthUri`, an SVG data URI. */
  qrCode: string;
}

export interface TwoFactorServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  cipher: Cipher;
  clock: Clock;
  settings: Pick<SettingsService, 'forStructure' | 'fromStored'>;
  secrets: TwoFactorRepository;
  /** The users feature: a reset factor ends the user's sessions. */
  users: Pick<UserService, 'endSessions'>;
  /**
   * Codes typed to turn one's own factor off or renew its recovery codes, counted per user: a
   * session alone must not be enough to try every 6-digit code.
   */
  ownCodeAttempts: RateLimiterAbstract;
}

/**
 * The optional second factor (security item 3): TOTP enrolled from a QR code and confirmed by a
 * first code, the secret encrypted at rest, ten single-use recovery codes stored hashed; a code's
 * time step is recorded so the same code is refused again. The structure's `requireTwoFactor`
 * makes it compulsory for its managers and admins.
 */
export function createTwoFactorService(deps: TwoFactorServiceDeps) {
  const { audit: trail } = deps;
  const { secrets } = deps;
  const { knex, uow, cipher, clock, settings } = deps;

  async function load(db: Knex | Knex.Transaction, actor: Pick<Actor, 'id' | 'structureId'>) {
    const rec = await secrets.find(db, actor.structureId, actor.id);
    if (!rec) throw new NotFoundError('User');
    return rec;
  }

  async function requiredFor(structureId: string, role: Role): Promise<boolean> {
    if (!TWO_FACTOR_REQUIRED_ROLES.includes(role)) return false;
    return (await settings.forStructure(knex, structureId)).requireTwoFactor;
  }

  const audit = (
    db: Knex | Knex.Transaction,
    actor: Actor | null,
    rec: TwoFactorRecord,
    action: string,
    ctx: RequestContext,
    details?: Record<string, unknown>,
  ) =>
    trail.record(db, {
      actor,
      structureId: rec.structureId,
      action,
      subjectType: 'user',
      subjectId: rec.userId,
      ip: ctx.ip,
      details,
    });

  /**
   * Checks a code of the enabled factor: a TOTP code of a step not used yet, or an unused
   * recovery code (then used up). Returns how it was accepted, or null.
   */
  async function check(rec: TwoFactorRecord, code: string): Promise<'totp' | 'recovery' | null> {
    if (!rec.secret) return null;
    const typed = code.trim();
    if (/^\d{6}$/.test(typed)) {
      const step = totpStep(cipher.decrypt(rec.secret), typed, clock.now());
      if (step === null) return null;
      return (await secrets.useStep(knex, rec.userId, step)) ? 'totp' : null;
    }
    if (normaliseRecoveryCode(typed).length !== 16) return null;
    const used = await secrets.useRecoveryCode(
      knex,
      rec.userId,
      hashRecoveryCode(typed),
      clock.now(),
    );
    return used ? 'recovery' : null;
  }

  async function issueRecoveryCodes(trx: Knex.Transaction, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await secrets.replaceRecoveryCodes(trx, userId, codes.map(hashRecoveryCode), clock.now());
    return codes;
  }

  /**
   * A code the user typed to change their own factor: 401 `totp_invalid` when it is wrong, 429
   * past the user's limit of tries, even for a right code. Each try is counted before its code
   * is checked, as a login is (counting failures afterwards let parallel guesses all pass the
   * check before any was recorded); a right code forgets the tries before it.
   */
  async function checkOwn(actor: Actor, code: string): Promise<TwoFactorRecord> {
    const rec = await load(knex, actor);
    if (!rec.enabledAt) throw new ConflictError('Two-factor authentication is not enabled');
    await consumeOrRefuse(
      deps.ownCodeAttempts,
      actor.id,
      'Too many wrong codes; wait a few minutes and try again',
    );
    if (!(await check(rec, code)))
      throw new UnauthorizedError('The code is wrong or was already used', 'totp_invalid');
    await deps.ownCodeAttempts.delete(actor.id);
    return rec;
  }

  return {
    async status(actor: Actor): Promise<TwoFactorStatus> {
      const rec = await load(knex, actor);
      return {
        enabled: rec.enabledAt !== null,
        enabledAt: rec.enabledAt,
        recoveryCodesLeft: rec.enabledAt ? rec.recoveryCodesLeft : 0,
        required: await requiredFor(actor.structureId, actor.role),
      };
    },

    /** Whether this signed-in user must enrol before using the app. */
    async mustEnrol(actor: Actor): Promise<boolean> {
      if (!TWO_FACTOR_REQUIRED_ROLES.includes(actor.role)) return false;
      // Read with the user by the session on this very request: no second read.
      const facts = sessionFactsOf(actor);
      if (facts)
        return !facts.totpEnabled && settings.fromStored(facts.structureSettings).requireTwoFactor;
      if (await secrets.enabled(knex, actor.id)) return false;
      return requiredFor(actor.structureId, actor.role);
    },

    /** Whether logging in as this user takes a code after the password. */
    async enabledFor(user: Pick<Actor, 'id'>): Promise<boolean> {
      return secrets.enabled(knex, user.id);
    },

    /**
     * A new secret to enrol, kept encrypted until confirmed; a second call replaces it (the QR
     * code scanned must be the last one shown).
     */
    async startEnrolment(actor: Actor): Promise<Enrolment> {
      const rec = await load(knex, actor);
      if (rec.enabledAt)
        throw new ConflictError('Two-factor authentication is already enabled; disable it first');
      const secret = newTotpSecret();
      await secrets.setPending(knex, actor.id, cipher.encrypt(secret));
      const uri = otpauthUri(secret, rec.email);
      return { secret, otpauthUri: uri, qrCode: await qrSvgDataUri(uri) };
    },

    /** The enrolment being confirmed, shown again after a wrong code; null when none. */
    async pendingEnrolment(actor: Actor): Promise<Enrolment | null> {
      const rec = await load(knex, actor);
      if (rec.enabledAt || !rec.pendingSecret) return null;
      const secret = cipher.decrypt(rec.pendingSecret);
      const uri = otpauthUri(secret, rec.email);
      return { secret, otpauthUri: uri, qrCode: await qrSvgDataUri(uri) };
    },

    /** The first code proves the app holds the secret: the factor is on, recovery codes issued. */
    async confirmEnrolment(
      actor: Actor,
      code: string,
      ctx: RequestContext,
    ): Promise<{ recoveryCodes: string[] }> {
      return uow(async (trx) => {
        const rec = await load(trx, actor);
        if (rec.enabledAt) throw new ConflictError('Two-factor authentication is already enabled');
        if (!rec.pendingSecret)
          throw new ConflictError('Start the enrolment first (POST /api/me/two-factor)');
        const step = totpStep(cipher.decrypt(rec.pendingSecret), code.trim(), clock.now());
        if (step === null)
          throw new UnauthorizedError(
            'The code is wrong; check the time of the device',
            'totp_invalid',
          );
        await secrets.enable(trx, actor.id, rec.pendingSecret, step, clock.now());
        const recoveryCodes = await issueRecoveryCodes(trx, actor.id);
        await audit(trx, actor, rec, 'user.two_factor_enabled', ctx);
        return { recoveryCodes };
      });
    },

    /** The user turns the factor off with a current code (or a recovery code). */
    async disable(actor: Actor, code: string, ctx: RequestContext): Promise<void> {
      const rec = await checkOwn(actor, code);
      await uow(async (trx) => {
        await secrets.disable(trx, actor.id);
        await audit(trx, actor, rec, 'user.two_factor_disabled', ctx);
      });
    },

    /** A new set of recovery codes (the old ones stop working), with a current code. */
    async renewRecoveryCodes(
      actor: Actor,
      code: string,
      ctx: RequestContext,
    ): Promise<{ recoveryCodes: string[] }> {
      const rec = await checkOwn(actor, code);
      return uow(async (trx) => {
        const recoveryCodes = await issueRecoveryCodes(trx, actor.id);
        await audit(trx, actor, rec, 'user.recovery_codes_renewed', ctx);
        return { recoveryCodes };
      });
    },

    /** An admin resets the factor of a user of the structure who lost their device. */
    async reset(actor: Actor, userId: string, ctx: RequestContext): Promise<TwoFactorStatus> {
      return uow(async (trx) => {
        const rec = await secrets.find(trx, actor.structureId, userId);
        if (!rec) throw new NotFoundError('User');
        await secrets.disable(trx, userId);
        // Sessions opened with the lost (perhaps stolen) device end with it, one written back by
        // a request in flight too (the session epoch moves on, as for a new password).
        await deps.users.endSessions(trx, userId);
        await audit(trx, actor, rec, 'user.two_factor_reset', ctx, {
          wasEnabled: rec.enabledAt !== null,
        });
        return {
          enabled: false,
          enabledAt: null,
          recoveryCodesLeft: 0,
          required: await requiredFor(rec.structureId, rec.role as Role),
        };
      });
    },

    /** Whether an admin's user has the factor on (the admin's user page). */
    async statusOf(actor: Actor, userId: string): Promise<TwoFactorStatus> {
      const rec = await secrets.find(knex, actor.structureId, userId);
      if (!rec) throw new NotFoundError('User');
      return {
        enabled: rec.enabledAt !== null,
        enabledAt: rec.enabledAt,
        recoveryCodesLeft: rec.enabledAt ? rec.recoveryCodesLeft : 0,
        required: await requiredFor(rec.structureId, rec.role as Role),
      };
    },

    /** The second step of a login: true when the code is accepted (and is then used up). */
    async verifyLogin(user: Pick<Actor, 'id' | 'structureId'>, code: string): Promise<boolean> {
      const rec = await secrets.find(knex, user.structureId, user.id);
      return rec ? (await check(rec, code)) !== null : false;
    },
  };
}

export type TwoFactorService = ReturnType<typeof createTwoFactorService>;
