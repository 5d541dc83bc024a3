import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../../auth/actor';
import { NotFoundError } from '../../lib/errors';
import { type UserRepository } from './user-repository';

export const preferencesBody = z.object({ emailNotifications: z.boolean() }).strict();
export type PreferencesInput = z.infer<typeof preferencesBody>;

export interface Preferences {
  /** The daily digest (and notifications meant for email) also by email; in the app always. */
  emailNotifications: boolean;
}

/** A user's own preferences: nobody sets them for someone else. */
export function createUserPreferenceService({
  knex,
  users,
}: {
  knex: Knex;
  users: UserRepository;
}) {
  return {
    async get(actor: Actor): Promise<Preferences> {
      const on = await users.emailNotificationsOf(knex, actor.id);
      if (on === null) throw new NotFoundError('User');
      return { emailNotifications: on };
    },
    async update(actor: Actor, input: PreferencesInput): Promise<Preferences> {
      const on = await users.setEmailNotifications(knex, actor.id, input.emailNotifications);
      if (on === null) throw new NotFoundError('User');
      return { emailNotifications: on };
    },
  };
}

export type UserPreferenceService = ReturnType<typeof createUserPreferenceService>;
