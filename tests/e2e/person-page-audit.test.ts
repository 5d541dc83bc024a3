import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';

/** The person page's reads are each audited, their events written in one statement. */
describe('person page audit', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => ctx.close());

  it('when a worker opens a person page, then the file, its timeline, its follow-ups and its rights are each audited, in one INSERT before the page is sent', async () => {
    const team = await createTeam();
    const worker = await loginAs(ctx.app, team.worker.email);
    const personId = (
      await worker.post('/api/persons').send({ alias: 'Monsieur au chien', source: 'outreach' })
    ).body.id as string;

    const inserts: string[] = [];
    const onQuery = (q: { sql: string }) => {
      if (/^insert into "audit_events"/i.test(q.sql)) inserts.push(q.sql);
    };
    ctx.deps.knex.on('query', onQuery);
    let res;
    try {
      res = await worker.get(`/personnes/${personId}`);
    } finally {
      ctx.deps.knex.removeListener('query', onQuery);
    }
    expect(res.status).toBe(200);
    expect(inserts).toHaveLength(1);

    const events = await testKnex()('audit_events')
      .where({ subject_id: personId, actor_id: team.worker.id })
      .whereNot({ action: 'person.create' })
      .orderBy('id')
      .pluck('action');
    expect(events[0]).toBe('person.read');
    expect([...events].sort()).toEqual(['person.read', 'person.timeline', 'person_right.list']);
    // The open follow-ups' list is audited too (its event names the persons, not a subject).
    expect(
      await testKnex()('audit_events').where({
        action: 'follow_up.list',
        actor_id: team.worker.id,
      }),
    ).toHaveLength(1);
  });

  it('when the person is of another structure, then 404 and no event is written', async () => {
    const team = await createTeam();
    const other = await createTeam();
    const stranger = await loginAs(ctx.app, other.worker.email);
    const worker = await loginAs(ctx.app, team.worker.email);
    const personId = (
      await worker.post('/api/persons').send({ alias: 'Dame au parapluie', source: 'outreach' })
    ).body.id as string;
    const res = await stranger.get(`/personnes/${personId}`);
    expect(res.status).toBe(404);
    expect(
      await testKnex()('audit_events').where({ subject_id: personId, actor_id: other.worker.id }),
    ).toHaveLength(0);
  });
});
