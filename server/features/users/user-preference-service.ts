import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../../auth/actor';
import { NotFoundError } from '../../lib/errors';

export const preferencesBody = z.object({ emailNotifications: z.boolean() }).strict();
export type PreferencesInput = z.infer<typeof preferencesBody>;

export interface Preferences {
  /** The daily digest (and notifications meant for email) also by email; in the app always. */
  emailNotifications: boolean;
}

/** A user's own preferences: nobody sets them for someone else. */
export function createUserPreferenceService({ knex }: { knex: Knex }) {
  return {
    async get(actor: Actor): Promise<Preferences> {
      const row = await knex('users').where({ id: actor.id }).first('email_notifications');
      if (!row) throw new NotFoundError('User');
      return { emailNotifications: row.email_notifications };
    },
    async update(actor: Actor, input: PreferencesInput): Promise<Preferences> {
      const [row] = await knex('users')
        .where({ id: actor.id })
        .update({ email_notifications: input.emailNotifications, updated_at: knex.fn.now() })
        .returning('email_notifications');
      if (!row) throw new NotFoundError('User');
      return { emailNotifications: row.email_notifications };
    },
  };
}

export type UserPreferenceService = ReturnType<typeof createUserPreferenceService>;
