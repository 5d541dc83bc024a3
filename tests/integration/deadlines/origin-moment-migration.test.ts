import { up } from '../../../migrations/20261217800100_backfill-follow-ups-origin-due-at';
import { PERSON_NO_CONTACT } from '../../../server/features/deadlines/rule-kinds';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { paris } from './time-machine';

/**
 * The data migration that gives the "relancer" follow-ups planned before it the moment of their
 * rule, run in a transaction that is rolled back: the test database keeps its rows.
 */
describe('migration: a rule’s follow-ups take their origin deadline’s moment', () => {
  it('gives each its origin’s moment, and where a replayed rule planned a second one at the same moment, the first only', async () => {
    const team = await createTeam();
    const trx = await testKnex().transaction();
    try {
      const [person] = await trx('persons')
        .insert({ structure_id: team.structure.id, alias: 'Homme ~50 ans', source: 'outreach' })
        .returning('id');
      const rule = async (dueAt: Date) =>
        (
          await trx('deadlines')
            .insert({
              structure_id: team.structure.id,
              kind: PERSON_NO_CONTACT,
              subject_type: 'person',
              subject_id: person.id,
              due_at: dueAt,
              status: 'done',
            })
            .returning('id')
        )[0].id as string;
      const followUp = async (originDeadlineId: string | null, createdAt: Date) =>
        (
          await trx('follow_ups')
            .insert({
              structure_id: team.structure.id,
              person_id: person.id,
              assignee_id: team.worker.id,
              title: 'Relancer : aucun contact depuis 30 jours',
              due_at: createdAt,
              created_at: createdAt,
              origin_deadline_id: originDeadlineId,
            })
            .returning('id')
        )[0].id as string;
      const first = paris('2026-12-31T10:00:00');
      const later = paris('2027-02-10T10:00:00');
      const played = await followUp(await rule(first), first);
      const replayed = await followUp(await rule(first), paris('2027-01-11T10:00:00'));
      const next = await followUp(await rule(later), later);
      const own = await followUp(null, first);

      await up(trx);

      const moments = await trx('follow_ups')
        .where({ person_id: person.id })
        .select('id', 'origin_due_at');
      expect(Object.fromEntries(moments.map((m) => [m.id, m.origin_due_at]))).toEqual({
        [played]: first,
        [replayed]: null,
        [next]: later,
        [own]: null,
      });
    } finally {
      await trx.rollback();
    }
  });
});
