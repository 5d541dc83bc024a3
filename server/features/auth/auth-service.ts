import type { Knex } from 'knex';
import { toActor, type Actor } from '../../auth/actor';
import { burnTime, verifyPassword } from '../../auth/passwords';
import type { LoginThrottle } from '../../auth/login-throttle';
import { UnauthorizedError } from '../../lib/errors';
import { auditTrail } from '../audit/audit-trail';
import type { UserRecord, UserService } from '../users/user-service';

export interface AuthService {
  /** Checks the credentials under the throttle; returns the user to put in the session. */
  authenticate(email: string, password: string, ip: string): Promise<UserRecord>;
  toActor(u: UserRecord): Actor;
}

export function createAuthService(deps: {
  knex: Knex;
  throttle: LoginThrottle;
  users: Pick<UserService, 'findByEmail'>;
}): AuthService {
  const { knex, throttle, users } = deps;
  return {
    toActor,
    async authenticate(email, password, ip) {
      await throttle.attempt(email, ip);
      const user = await users.findByEmail(email);
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
