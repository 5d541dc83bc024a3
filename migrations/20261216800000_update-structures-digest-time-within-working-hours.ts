import type { Knex } from 'knex';

/**
 * Data: a structure's digest time lies within its working hours, a settings rule from now on (a
 * partner user's digest email is never sent out of working hours, so at a digest time outside
 * them partner users got no digest at all). A digest time stored outside them moves to the start
 * of the working day, at a new settings version, so a settings form read before is told what
 * changed. Without it, reading such settings would fail the rule and fall back to every default.
 *
 * A PATCH stores the whole settings, but settings saved before `workingHours` existed have none:
 * those follow the default working hours (08:30–18:00), as reading them does. "HH:MM" texts
 * compare as the times they are under the C collation. The digest already planned runs at its
 * moment and plans the next one at the new time.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    WITH hours AS (
      SELECT id,
             COALESCE(settings #>> '{workingHours,start}', '08:30') COLLATE "C" AS opens,
             COALESCE(settings #>> '{workingHours,end}', '18:00') COLLATE "C" AS closes
        FROM structures
       WHERE jsonb_typeof(settings -> 'digestTime') = 'string'
    )
    UPDATE structures s
       SET settings = jsonb_set(s.settings, '{digestTime}', to_jsonb(h.opens::text)),
           settings_version = s.settings_version + 1,
           settings_updated_at = now()
      FROM hours h
     WHERE h.id = s.id
       AND ((s.settings ->> 'digestTime') COLLATE "C" < h.opens
            OR (s.settings ->> 'digestTime') COLLATE "C" >= h.closes)`);
}

export async function down(): Promise<void> {
  // The digest times moved were allowed before and are not kept: nothing to restore.
}
