import type { Knex } from 'knex';
import { toActor, type Actor } from '../../auth/actor';
import { burnTime, verifyPassword } from '../../auth/passwords';
import type { LoginThrottle } from '../../auth/login-throttle';
import { UnauthorizedError } from '../../lib/errors';
import { type AuditTrail } from '../audit/audit-trail';
import type { TwoFactorService } from '../two-factor/two-factor-service';
import type { UserRecord, UserService } from '../users/user-service';

export interface AuthService {
  /**
   * Checks the credentials under the throttle; returns the user to put in the session. A user
   * with a second factor needs `totp` too (a TOTP or recovery code): without it 401
   * `totp_required`, wrong 401 `totp_invalid`; every try counts in the login throttle.
   */
  authenticate(email: string, password: string, ip: string, totp?: string): Promise<UserRecord>;
  /**
   * The second step of a login on the pages: the password was checked moments ago for this
   * user (kept in the session, never the password itself); now the code, under the throttle.
   */
  completeTwoFactor(userId: string, email: string, code: string, ip: string): Promise<UserRecord>;
  toActor(u: UserRecord): Actor;
}

export function createAuthService(deps: {
  knex: Knex;
  throttle: LoginThrottle;
  users: Pick<UserService, 'findByEmail'>;
  twoFactor: Pick<TwoFactorService, 'enabledFor' | 'verifyLogin'>;
  audit: AuditTrail;
}): AuthService {
  const { audit } = deps;
  const { knex, throttle, users, twoFactor } = deps;

  const failed = (user: UserRecord, ip: string, reason?: string) =>
    audit.record(knex, {
      actor: null,
      structureId: user.structureId,
      action: 'login_failed',
      subjectType: 'user',
      subjectId: user.id,
      ip,
      details: reason ? { reason } : undefined,
    });

  async function succeed(user: UserRecord, email: string, ip: string): Promise<UserRecord> {
    await throttle.succeed(email, ip);
    await audit.record(knex, {
      actor: toActor(user),
      structureId: user.structureId,
      action: 'login',
      subjectType: 'user',
      subjectId: user.id,
      ip,
    });
    return user;
  }

  async function secondFactor(user: UserRecord, email: string, ip: string, code: string) {
    if (!(await twoFactor.verifyLogin(user, code))) {
      await failed(user, ip, 'totp');
      throw new UnauthorizedError('The code is wrong or was already used', 'totp_invalid');
    }
    return succeed(user, email, ip);
  }

  return {
    toActor,
    async authenticate(email, password, ip, totp) {
      await throttle.attempt(email, ip);
      const user = await users.findByEmail(email);
      const ok =
        user && !user.disabledAt
          ? await verifyPassword(user.passwordHash, password)
          : (await burnTime(password), false);
      if (!user || !ok) {
        if (user) await failed(user, ip);
        throw new UnauthorizedError('Email or password is incorrect');
      }
      if (await twoFactor.enabledFor(user)) {
        if (totp === undefined) {
          // The password alone resets nothing of the account's failures, but the address gets
          // this right attempt's point back: the code's step will count one of its own.
          await throttle.passFirstFactor(ip);
          throw new UnauthorizedError(
            'This account has two-factor authentication: send the code too (totp)',
            'totp_required',
          );
        }
        return secondFactor(user, email, ip, totp);
      }
      return succeed(user, email, ip);
    },
    async completeTwoFactor(userId, email, code, ip) {
      await throttle.attempt(email, ip);
      const user = await users.findByEmail(email);
      if (!user || user.id !== userId || user.disabledAt)
        throw new UnauthorizedError('Log in again');
      return secondFactor(user, email, ip, code);
    },
  };
}
