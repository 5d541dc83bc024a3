import { up } from '../../../migrations/20261206130200_insert-reminder-rule-deadlines';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';

const DAY = 86_400_000;

describe('data migration: the reminder rules planned for what existed before them', () => {
  it('when it runs, then open follow-ups and followed persons get the moments still to come, and nothing already past', async () => {
    const knex = testKnex();
    const team = await createTeam();
    const now = Date.now();
    const [recent, old, done] = await knex('persons')
      .insert(
        [0, 1, 2].map((i) => ({
          structure_id: team.structure.id,
          alias: `Personne ${i}`,
          source: 'outreach',
          referent_id: team.worker.id,
          // The first was created today, the second 60 days ago, the third is closed.
          created_at: new Date(now - (i === 1 ? 60 : 0) * DAY),
          ...(i === 2 ? { closed_at: new Date(), closed_reason: 'moved' } : {}),
        })),
      )
      .returning('id');
    const followUp = (personId: string, dueAt: Date, status = 'open') => ({
      structure_id: team.structure.id,
      person_id: personId,
      assignee_id: team.worker.id,
      title: 'Rappeler',
      due_at: dueAt,
      status,
    });
    const [soon, longAgo, closed] = await knex('follow_ups')
      .insert([
        followUp(recent.id, new Date(now + 2 * DAY)),
        followUp(recent.id, new Date(now - 60 * DAY)),
        followUp(recent.id, new Date(now + 2 * DAY), 'done'),
      ])
      .returning('id');

    await up(knex);

    const kinds = async (subjectId: string) =>
      (await knex('deadlines').where({ subject_id: subjectId }).orderBy('kind')).map((d) => d.kind);
    expect(await kinds(soon.id)).toEqual(['follow_up.escalate', 'follow_up.overdue_reminder']);
    expect(await kinds(longAgo.id)).toEqual([]);
    expect(await kinds(closed.id)).toEqual([]);
    expect(await kinds(recent.id)).toEqual(['person.no_contact', 'person.suggest_close']);
    // 60 days without contact: the 30-day moment has passed, the 90-day one is to come.
    expect(await kinds(old.id)).toEqual(['person.suggest_close']);
    expect(await kinds(done.id)).toEqual([]);
    const [noContact] = await knex('deadlines').where({
      subject_id: recent.id,
      kind: 'person.no_contact',
    });
    expect(Math.abs(new Date(noContact.due_at).getTime() - (now + 30 * DAY))).toBeLessThan(60_000);
    expect(noContact).toMatchObject({ status: 'pending', enqueued_at: null });
  });
});
