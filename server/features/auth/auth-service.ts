import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import { burnTime, verifyPassword } from '../../auth/passwords';
import type { LoginThrottle } from '../../auth/login-throttle';
import { UnauthorizedError } from '../../lib/errors';
import { auditTrail } from '../audit/audit-trail';
import { userRepository, type UserRecord } from '../users/user-repository';

export interface AuthService {
  /** Checks the credentials under the throttle; returns the user to put in the session. */
  authenticate(email: string, password: string, ip: string): Promise<UserRecord>;
  toActor(u: UserRecord): Actor;
}

export function createAuthService(deps: { knex: Knex; throttle: LoginThrottle }): AuthService {
  const { knex, throttle } = deps;
  const toActor = (u: UserRecord): Actor => ({
    id: u.id,
    structureId: u.structureId,
    role: u.role,
    partnerId: u.partnerId,
    name: u.name,
    email: u.email,
  });
  return {
    toActor,
    async authenticate(email, password, ip) {
      await throttle.attempt(email, ip);
      const user = await userRepository.findByEmail(knex, email);
      const ok =
        user && !user.disabledAt
          ? await verifyPassword(user.passwordHash, password)
          : (await burnTime(password), false);
      if (!user || !ok) {
        if (user) {
          await auditTrail.record(knex, {
            actor: null,
            structureId: user.structureId,
            action: 'login_failed',
            subjectType: 'user',
            subjectId: user.id,
            ip,
          });
        }
        throw new UnauthorizedError('Email or password is incorrect');
      }
      await throttle.succeed(email, ip);
      await auditTrail.record(knex, {
        actor: toActor(user),
        structureId: user.structureId,
        action: 'login',
        subjectType: 'user',
        subjectId: user.id,
        ip,
      });
      return user;
    },
  };
}
