import request from 'supertest';
import { createNotificationRepository } from '../../../server/features/notifications/notification-repository';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';

const notificationRepository = createNotificationRepository();

describe('notifications API', () => {
  const clock = fixedClock('2026-11-25T10:00:00Z');
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
  });
  afterAll(async () => ctx.close());

  const notify = (recipientId: string, title: string, subjectId = crypto.randomUUID()) =>
    notificationRepository.insertOnce(testKnex(), {
      structureId: team.structure.id,
      recipientId,
      kind: 'follow_up.due',
      subjectType: 'follow_up',
      subjectId,
      dueMoment: new Date('2026-11-25T08:30:00Z'),
      title,
    });

  it("lists only the caller's notifications with the unread count, and marks one read at the clock", async () => {
    const mine = await notify(team.worker.id, 'Relancer M.');
    await notify(team.worker.id, 'Visite à domicile');
    const theirs = await notify(team.worker2.id, 'Pas pour vous');
    const agent = await loginAs(ctx.app, team.worker.email);

    const list = await agent.get('/api/notifications');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ total: 2, unread: 2, page: 1, pageSize: 20 });
    expect(list.body.items.map((n: { title: string }) => n.title).sort()).toEqual([
      'Relancer M.',
      'Visite à domicile',
    ]);

    const read = await agent.post(`/api/notifications/${mine}/read`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: mine, readAt: '2026-11-25T10:00:00.000Z' });
    const unread = await agent.get('/api/notifications').query({ unread: 'true' });
    expect(unread.body).toMatchObject({ total: 1, unread: 1 });

    // Someone else's notification is not found, and stays unread.
    expect((await agent.post(`/api/notifications/${theirs}/read`)).status).toBe(404);
    const row = await testKnex()('notifications').where({ id: theirs }).first();
    expect(row.read_at).toBeNull();
  });

  it('when sent twice for the same subject and moment, then stored once', async () => {
    const subject = crypto.randomUUID();
    expect(await notify(team.manager.id, 'Une fois', subject)).toEqual(expect.any(String));
    expect(await notify(team.manager.id, 'Une fois', subject)).toBeNull();
    expect(await testKnex()('notifications').where({ subject_id: subject })).toHaveLength(1);
  });

  it('when the id is not a UUID or the query unknown, then 400 naming it; anonymous is 401', async () => {
    const agent = await loginAs(ctx.app, team.worker.email);
    const bad = await agent.post('/api/notifications/abc/read');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('id');
    const q = await agent.get('/api/notifications').query({ unread: 'maybe' });
    expect(q.status).toBe(400);
    expect(q.body.error.details[0].field).toBe('unread');
    expect((await request(ctx.app).get('/api/notifications')).status).toBe(401);
  });
});
