import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor';
import { userRepository, type UserRecord } from './user-repository';

export type { UserRecord } from './user-repository';

/** The users as the other features see them: who exists, and who counts as active staff. */
export function createUserService({ knex }: { knex: Knex }) {
  return {
    /** Signing in: the user of this email (case-insensitive), disabled ones included. */
    findByEmail: (email: string): Promise<UserRecord | null> =>
      userRepository.findByEmail(knex, email),

    /** An enabled worker or manager of the structure, or null (the active-staff rule). */
    findActiveStaff: (
      db: Knex | Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<UserRecord | null> => userRepository.findActiveStaff(db, structureId, id),

    /** The structure's active workers and managers, by name. */
    listActiveStaff: (structureId: string): Promise<Pick<Actor, 'id' | 'name' | 'role'>[]> =>
      userRepository.listActiveStaff(knex, structureId),

    /** Any user of the structure, disabled ones included (a leaver whose work is moved). */
    findAnyInStructure: (
      db: Knex | Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<UserRecord | null> => userRepository.findAnyInStructure(db, structureId, id),
  };
}

export type UserService = ReturnType<typeof createUserService>;
