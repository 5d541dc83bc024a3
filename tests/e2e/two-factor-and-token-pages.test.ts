import request from 'supertest';
import { fixedClock } from '../../server/lib/clock';
import { totpCode } from '../../server/features/two-factor/totp';
import { createTestContext, DEFAULT_PASSWORD, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam, createUser } from '../setup/factories';
import { csrfOf } from './html';

type Agent = ReturnType<typeof request.agent>;

describe('second factor and API token pages', () => {
  const clock = fixedClock('2026-11-24T10:00:00+01:00');
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
  });
  afterAll(async () => ctx.close());

  /** Logs in through the login page; answers the agent and the login POST's response. */
  async function pageLogin(email: string) {
    const agent = request.agent(ctx.app);
    const form = await agent.get('/connexion');
    const res = await agent
      .post('/connexion')
      .type('form')
      .send({ _csrf: csrfOf(form.text), email, password: DEFAULT_PASSWORD, retour: '/' });
    return { agent, res };
  }

  /** Enrols through the pages; answers the secret. */
  async function enrolByPages(agent: Agent): Promise<{ secret: string; page: string }> {
    const start = await agent.get('/mon-compte/double-authentification');
    expect(start.status).toBe(200);
    const activated = await agent
      .post('/mon-compte/double-authentification/activation')
      .type('form')
      .send({ _csrf: csrfOf(start.text) });
    expect(activated.status).toBe(303);
    const shown = await agent.get('/mon-compte/double-authentification');
    expect(shown.text).toMatch(/<img src="data:image\/svg\+xml;base64,[^"]+"[^>]*alt="QR code/);
    const secret = /<code class="av-secret">([A-Z2-7]+)<\/code>/.exec(shown.text)?.[1] ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const wrong = await agent
      .post('/mon-compte/double-authentification/confirmation')
      .type('form')
      .send({ _csrf: csrfOf(shown.text), code: '12' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Ce code est incorrect');
    // The same secret is still offered after a wrong code.
    expect(wrong.text).toContain(secret);
    const done = await agent
      .post('/mon-compte/double-authentification/confirmation')
      .type('form')
      .send({ _csrf: csrfOf(shown.text), code: totpCode(secret, clock.now()) });
    expect(done.status).toBe(200);
    return { secret, page: done.text };
  }

  it('when the structure requires it, then a manager is sent to enrol after the password, enrols from the QR code, sees 10 recovery codes once, then uses the app', async () => {
    const own = await createTeam();
    const admin = await loginAs(ctx.app, own.admin.email);
    const { version } = (await admin.get('/api/settings')).body;
    await admin.patch('/api/settings').send({ version, requireTwoFactor: true }).expect(200);

    const { agent, res } = await pageLogin(own.manager.email);
    expect(res.status).toBe(303);
    const home = await agent.get('/');
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/mon-compte/double-authentification');
    const persons = await agent.get('/personnes');
    expect(persons.headers.location).toBe('/mon-compte/double-authentification');
    const enrol = await agent.get('/mon-compte/double-authentification');
    expect(enrol.text).toContain('Votre structure demande la double authentification');

    const { page } = await enrolByPages(agent);
    const codes = page.match(/<code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})<\/code>/g) ?? [];
    expect(codes).toHaveLength(10);
    expect(page).toContain('ne seront plus jamais affichés');
    expect((await agent.get('/')).status).toBe(200);
    const again = await agent.get('/mon-compte/double-authentification');
    expect(again.text).toContain('10 codes de secours inutilisés');
    expect(again.text).not.toMatch(/<code>[a-z2-7]{4}-/);
  });

  it('when a user with a second factor logs in on the page, then the code is asked in a second step; a wrong code is 401 there, the right one opens the app', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const first = await pageLogin(user.email);
    const { secret } = await enrolByPages(first.agent);
    clock.advance(30_000);

    const { agent, res } = await pageLogin(user.email);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/connexion/code');
    // Not signed in yet.
    expect((await agent.get('/api/me')).status).toBe(401);
    const form = await agent.get('/connexion/code');
    expect(form.status).toBe(200);
    expect(form.text).toContain('autocomplete="one-time-code"');
    const wrong = await agent
      .post('/connexion/code')
      .type('form')
      .send({
        _csrf: csrfOf(form.text),
        code: '000000' === totpCode(secret, clock.now()) ? '111111' : '000000',
      });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Ce code est incorrect');
    const ok = await agent
      .post('/connexion/code')
      .type('form')
      .send({ _csrf: csrfOf(wrong.text), code: totpCode(secret, clock.now()) });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/');
    expect((await agent.get('/api/me')).body.user.id).toBe(user.id);

    // Without a password step first, the code page sends back to the login.
    const stranger = await request(ctx.app).get('/connexion/code');
    expect(stranger.status).toBe(303);
    expect(stranger.headers.location).toBe('/connexion');
  });

  it('when a user with a second factor signs in 105 times from one address on the pages, then every login succeeds: a right password and a right code cost the address nothing', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { secret } = await enrolByPages((await pageLogin(user.email)).agent);
    // Past the 100 attempts an address is allowed in 15 minutes, were any login to cost it one.
    for (let i = 0; i < 105; i += 1) {
      clock.advance(30_000);
      const { agent, res } = await pageLogin(user.email);
      expect([i, res.status, res.headers.location]).toEqual([i, 303, '/connexion/code']);
      const form = await agent.get('/connexion/code');
      const ok = await agent
        .post('/connexion/code')
        .type('form')
        .send({ _csrf: csrfOf(form.text), code: totpCode(secret, clock.now()) });
      expect([i, ok.status, ok.headers.location]).toEqual([i, 303, '/']);
    }
  }, 180_000);

  it('when wrong codes are typed to turn the factor off, then past 10 the page says to wait (429), the right code too, and the factor stays on', async () => {
    const user = await createUser(team.structure.id, 'worker');
    const { agent } = await pageLogin(user.email);
    const { secret } = await enrolByPages(agent);
    clock.advance(30_000);
    const code = totpCode(secret, clock.now());
    const wrong = code === '999999' ? '888888' : '999999';
    let page = await agent.get('/mon-compte/double-authentification');
    for (let i = 0; i < 10; i += 1) {
      page = await agent
        .post('/mon-compte/double-authentification/desactivation')
        .type('form')
        .send({ _csrf: csrfOf(page.text), code: wrong });
      expect(page.status).toBe(401);
    }
    const held = await agent
      .post('/mon-compte/double-authentification/desactivation')
      .type('form')
      .send({ _csrf: csrfOf(page.text), code });
    expect(held.status).toBe(429);
    expect(held.text).toContain('Trop de codes incorrects : patientez quelques minutes');
    const renew = await agent
      .post('/mon-compte/double-authentification/codes-de-secours')
      .type('form')
      .send({ _csrf: csrfOf(held.text), code });
    expect(renew.status).toBe(429);
    const row = await testKnex()('users').where({ id: user.id }).first();
    expect(row.totp_enabled_at).not.toBeNull();
  });

  it('when an admin resets the factor from the user page, then it is off, audited, and the admin settings page holds the requirement', async () => {
    const own = await createTeam();
    const user = own.manager;
    await enrolByPages((await pageLogin(user.email)).agent);
    const admin = (await pageLogin(own.admin.email)).agent;
    const page = await admin.get(`/admin/utilisateurs/${user.id}`);
    expect(page.text).toContain('Réinitialiser la double authentification');
    const reset = await admin
      .post(`/admin/utilisateurs/${user.id}/double-authentification`)
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(reset.status).toBe(303);
    const row = await testKnex()('users').where({ id: user.id }).first();
    expect(row.totp_enabled_at).toBeNull();
    const audit = await testKnex()('audit_events').where({
      subject_id: user.id,
      action: 'user.two_factor_reset',
    });
    expect(audit).toHaveLength(1);

    const settings = await admin.get('/admin/parametres');
    expect(settings.text).toContain('name="requireTwoFactor"');
    const version = /name="version" value="(\d+)"/.exec(settings.text)?.[1];
    const fields = Object.fromEntries(
      [...settings.text.matchAll(/<input[^>]*name="(\w+)"[^>]*value="([^"]*)"/g)]
        .filter(([, n]) => n !== 'requireTwoFactor')
        .map(([, n, v]) => [n, v]),
    );
    const saved = await admin
      .post('/admin/parametres')
      .type('form')
      .send({ ...fields, version, requireTwoFactor: '1' });
    expect(saved.status).toBe(303);
    const stored = await testKnex()('structures').where({ id: own.structure.id }).first();
    expect(stored.settings.requireTwoFactor).toBe(true);
    // The admin who saved it has no second factor yet: sent to enrol before anything else.
    const next = await admin.get('/admin');
    expect(next.status).toBe(303);
    expect(next.headers.location).toBe('/mon-compte/double-authentification');
    // A worker is not concerned.
    expect((await (await pageLogin(own.worker.email)).agent.get('/')).status).toBe(200);
  });

  it('when a partner user creates a token on the account page, then it is shown once, listed by its start with its last use, and revoked from the page', async () => {
    const partner = await createPartner(testKnex(), 'Épicerie solidaire', team.structure.id);
    const user = await createUser(team.structure.id, 'partner', { partnerId: partner.id });
    const { agent } = await pageLogin(user.email);
    const account = await agent.get('/mon-compte');
    expect(account.text).toContain('href="/mon-compte/jetons"');
    const list = await agent.get('/mon-compte/jetons');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Aucun jeton');

    const blank = await agent
      .post('/mon-compte/jetons')
      .type('form')
      .send({ _csrf: csrfOf(list.text), name: ' ', expiresInDays: '' });
    expect(blank.status).toBe(400);
    expect(blank.text).toContain('Donnez un nom au jeton');

    const created = await agent
      .post('/mon-compte/jetons')
      .type('form')
      .send({ _csrf: csrfOf(list.text), name: 'Logiciel', expiresInDays: '90' });
    expect(created.status).toBe(200);
    const token = /<code class="av-secret">(av_[A-Za-z0-9_-]{43})<\/code>/.exec(created.text)?.[1];
    expect(token).toBeDefined();
    expect(created.headers['cache-control']).toBe('no-store');

    await request(ctx.app)
      .get('/api/referrals')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    const after = await agent.get('/mon-compte/jetons');
    expect(after.text).not.toContain(token);
    expect(after.text).toContain(`${token?.slice(0, 9)}…`);
    expect(after.text).not.toContain('Jamais');

    const id = (await testKnex()('api_tokens').where({ user_id: user.id }).first('id')).id;
    const revoked = await agent
      .post(`/mon-compte/jetons/${id}/revocation`)
      .type('form')
      .send({ _csrf: csrfOf(after.text) });
    expect(revoked.status).toBe(303);
    await request(ctx.app)
      .get('/api/referrals')
      .set('Authorization', `Bearer ${token}`)
      .expect(401);

    // Staff have no token page.
    const worker = (await pageLogin(team.worker.email)).agent;
    expect((await worker.get('/mon-compte/jetons')).status).toBe(403);
    expect((await worker.get('/mon-compte')).text).not.toContain('/mon-compte/jetons');
  });
});
