import request from 'supertest';
import { csrfOf } from '../../e2e/html';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam, createUser } from '../../setup/factories';

describe("a user's own digest email preference, in the API and on the account page", () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
  });
  afterAll(async () => ctx.close());

  const stored = async (id: string) =>
    (await testKnex()('users').where({ id }).first('email_notifications')).email_notifications;

  it('when a user turns digest emails off and on through the API, then only their own row changes', async () => {
    const agent = await loginAs(ctx.app, team.worker.email);
    expect((await agent.get('/api/me/preferences')).body).toEqual({ emailNotifications: true });
    const off = await agent.patch('/api/me/preferences').send({ emailNotifications: false });
    expect(off.status).toBe(200);
    expect(await stored(team.worker.id)).toBe(false);
    expect(await stored(team.worker2.id)).toBe(true);
    expect(
      (await agent.patch('/api/me/preferences').send({ emailNotifications: true })).body,
    ).toEqual({ emailNotifications: true });
  });

  it('when the body is wrong, then 400 naming the field; without a session, 401', async () => {
    const agent = await loginAs(ctx.app, team.manager.email);
    for (const body of [
      { emailNotifications: 'yes' },
      {},
      { emailNotifications: true, userId: team.worker.id },
    ]) {
      const res = await agent.patch('/api/me/preferences').send(body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.error)).toMatch(/emailNotifications|userId/);
    }
    expect((await request(ctx.app).get('/api/me/preferences')).status).toBe(401);
  });

  it('when the structure sets its digest at 09:15, then the account page of each role that gets a digest says so and offers the email, and observers and admins, who get none, are offered nothing', async () => {
    const admin = await loginAs(ctx.app, team.admin.email);
    const { version } = (await admin.get('/api/settings')).body;
    expect((await admin.patch('/api/settings').send({ version, digestTime: '09:15' })).status).toBe(
      200,
    );
    const partner = await createUser(team.structure.id, 'partner', {
      partnerId: (await createPartner(testKnex(), 'Banque alimentaire', team.structure.id)).id,
    });
    for (const user of [team.worker2, team.manager, partner]) {
      const page = await (await loginAs(ctx.app, user.email)).get('/mon-compte');
      expect(page.status).toBe(200);
      expect(page.text).toContain('Chaque jour ouvré à 9 h 15,');
      expect(page.text).not.toContain('8 h 30');
      expect(page.text).toContain('id="emailNotifications"');
    }
    for (const user of [team.observer, team.admin]) {
      const page = await (await loginAs(ctx.app, user.email)).get('/mon-compte');
      expect(page.status).toBe(200);
      expect(page.text).toContain('Double authentification');
      expect(page.text).not.toContain('Point du jour');
      expect(page.text).not.toContain('id="emailNotifications"');
    }
  });

  it('when a user unticks the box on their account page, then the preference is off and the page says so', async () => {
    const agent = await loginAs(ctx.app, team.worker2.email);
    const page = await agent.get('/mon-compte');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Recevoir aussi le point du jour par courriel');
    expect(page.text).toMatch(/id="emailNotifications"[^>]*checked/);
    const posted = await agent
      .post('/mon-compte')
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(posted.status).toBe(303);
    expect(await stored(team.worker2.id)).toBe(false);
    const after = await agent.get('/mon-compte');
    expect(after.text).not.toMatch(/id="emailNotifications"[^>]*checked/);
    expect(after.text).toContain('ne vous sera plus envoyé par courriel');
    // Without its token, nothing changes.
    const forged = await agent
      .post('/mon-compte')
      .type('form')
      .send({ emailNotifications: 'true' });
    expect(forged.status).toBe(403);
    expect(await stored(team.worker2.id)).toBe(false);
    // A value the box never sends: 400, the bad-request page (it was a 404), nothing changes.
    const odd = await agent
      .post('/mon-compte')
      .type('form')
      .send({ _csrf: csrfOf(after.text), emailNotifications: 'on' });
    expect(odd.status).toBe(400);
    expect(odd.text).toContain('Demande incorrecte');
    expect(await stored(team.worker2.id)).toBe(false);
  });
});
