import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { createTeam } from '../setup/factories';

describe('first journey through the API', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => ctx.close());

  it('records a person by alias, logs two contacts and plans the follow-up; another structure sees nothing', async () => {
    const a = await createTeam();
    const b = await createTeam();
    const worker = await loginAs(ctx.app, a.worker.email);

    const created = await worker
      .post('/api/persons')
      .send({
        alias: 'Homme ~50 ans, parvis de la médiathèque',
        source: 'outreach',
        situation: 'Dort dehors',
      });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      alias: 'Homme ~50 ans, parvis de la médiathèque',
      status: 'identified',
      version: 1,
    });
    const id = created.body.id as string;

    const first = await worker
      .post(`/api/persons/${id}/contacts`)
      .send({ occurredAt: '2026-11-20T10:00:00+01:00', channel: 'street', outcome: 'not_reached' });
    expect(first.status).toBe(201);

    const second = await worker.post(`/api/persons/${id}/contacts`).send({
      occurredAt: '2026-11-21T10:00:00+01:00',
      channel: 'street',
      outcome: 'reached',
      summary: 'Accepte un rendez-vous',
      nextFollowUpAt: '2030-01-06T09:00:00+01:00',
    });
    expect(second.status).toBe(201);
    expect(second.body.followUpId).toEqual(expect.any(String));

    const person = await worker.get(`/api/persons/${id}`);
    expect(person.body.status).toBe('in_contact');

    const mine = await worker.get('/api/follow-ups?assignee=me');
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((f: { id: string }) => f.id)).toContain(second.body.followUpId);

    const timeline = await worker.get(`/api/persons/${id}/timeline`);
    expect(timeline.body.items.map((i: { type: string }) => i.type).sort()).toEqual([
      'contact',
      'contact',
      'follow_up',
    ]);

    const outsider = await loginAs(ctx.app, b.worker.email);
    expect((await outsider.get(`/api/persons/${id}`)).status).toBe(404);
    expect((await outsider.get('/api/persons')).body.total).toBe(0);

    const manager = await loginAs(ctx.app, a.manager.email);
    expect((await manager.get(`/api/persons/${id}`)).status).toBe(200);
  });
});
