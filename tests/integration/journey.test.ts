import { startDeadlineWorker, type DeadlineWorker } from '../../jobs/runtime';
import { FOLLOW_UP_DUE } from '../../server/features/follow-ups/follow-up-schemas';
import { fixedClock } from '../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { createTeam } from '../setup/factories';
import { deadlinesOf, waitForStatus } from './deadlines/helpers';

/** The clock of the whole journey: the follow-up planned at the second contact falls due now. */
const NOW = new Date('2026-11-23T09:00:00.000Z');

describe('first journey through the API, with the real deadline worker', () => {
  let ctx: TestContext;
  let worker: DeadlineWorker;
  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    worker = await startDeadlineWorker(ctx.deps);
  });
  afterAll(async () => {
    await worker.close();
    await ctx.close();
  });

  it('records a person by alias, logs two contacts, the follow-up falls due and notifies its assignee; the manager sees everything, another structure nothing', async () => {
    const a = await createTeam();
    const b = await createTeam();
    const agent = await loginAs(ctx.app, a.worker.email);

    const created = await agent.post('/api/persons').send({
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

    const first = await agent
      .post(`/api/persons/${id}/contacts`)
      .send({ occurredAt: '2026-11-20T10:00:00+01:00', channel: 'street', outcome: 'not_reached' });
    expect(first.status).toBe(201);

    const second = await agent.post(`/api/persons/${id}/contacts`).send({
      occurredAt: '2026-11-21T10:00:00+01:00',
      channel: 'street',
      outcome: 'reached',
      summary: 'Accepte un rendez-vous',
      nextFollowUpAt: NOW.toISOString(),
      nextFollowUpTitle: 'Rappeler pour le rendez-vous',
    });
    expect(second.status).toBe(201);
    const followUpId = second.body.followUpId as string;
    expect(followUpId).toEqual(expect.any(String));

    expect((await agent.get(`/api/persons/${id}`)).body.status).toBe('in_contact');

    const mine = await agent.get('/api/follow-ups?assignee=me');
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((f: { id: string }) => f.id)).toEqual([followUpId]);

    // The deadline written with the contact goes through BullMQ to the real worker.
    const [deadline] = await deadlinesOf(followUpId);
    await waitForStatus(deadline.id, 'done');

    const notifications = await agent.get('/api/notifications');
    expect(notifications.status).toBe(200);
    expect(notifications.body).toMatchObject({ total: 1, unread: 1 });
    const [n] = notifications.body.items;
    expect(n).toMatchObject({
      kind: FOLLOW_UP_DUE,
      subjectType: 'follow_up',
      subjectId: followUpId,
      title: 'Suivi à faire : Rappeler pour le rendez-vous',
      link: `/personnes/${id}`,
      readAt: null,
    });
    expect(new Date(n.dueMoment).getTime()).toBe(NOW.getTime());
    const read = await agent.post(`/api/notifications/${n.id}/read`);
    expect(read.status).toBe(200);
    expect(new Date(read.body.readAt).getTime()).toBe(NOW.getTime());
    expect((await agent.get('/api/notifications')).body).toMatchObject({ total: 1, unread: 0 });

    const manager = await loginAs(ctx.app, a.manager.email);
    expect((await manager.get(`/api/persons/${id}`)).status).toBe(200);
    const found = await manager.get('/api/persons').query({ q: 'mediatheque' });
    expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([id]);
    const backlog = await manager.get('/api/follow-ups');
    expect(backlog.status).toBe(200);
    expect(backlog.body.items).toEqual([
      expect.objectContaining({ id: followUpId, assigneeId: a.worker.id, personId: id }),
    ]);
    const timeline = await manager.get(`/api/persons/${id}/timeline`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.items.map((i: { type: string; id: string }) => [i.type, i.id])).toEqual(
      expect.arrayContaining([
        ['contact', first.body.id],
        ['contact', second.body.id],
        ['follow_up', followUpId],
      ]),
    );
    expect(timeline.body.total).toBe(3);

    // Another structure's worker: the person does not exist for them.
    const outsider = await loginAs(ctx.app, b.worker.email);
    expect((await outsider.get(`/api/persons/${id}`)).status).toBe(404);
    expect((await outsider.get(`/api/persons/${id}/timeline`)).status).toBe(404);
    expect((await outsider.get('/api/persons')).body.total).toBe(0);
    expect((await outsider.get('/api/persons').query({ q: 'mediatheque' })).body.total).toBe(0);
    expect((await outsider.get('/api/follow-ups').query({ personId: id })).body.total).toBe(0);
    expect((await outsider.get('/api/follow-ups?assignee=me')).body.total).toBe(0);
    expect((await outsider.get('/api/notifications')).body.total).toBe(0);
    expect((await outsider.post(`/api/notifications/${n.id}/read`)).status).toBe(404);
  });
});
