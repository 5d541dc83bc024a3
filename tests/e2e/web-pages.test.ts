import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { ConflictError } from '../../server/lib/errors';
import { htmlErrorHandler } from '../../server/web/html-error-handler';
import { createTestContext, DEFAULT_PASSWORD, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { agentSessionId, endSession, storedSession } from '../setup/sessions';
import { createPartner, createTeam, createUser } from '../setup/factories';
import { csrfOf, inputValue, textareaValue } from './html';

describe('web pages over HTTP', () => {
  let ctx: TestContext;
  let a: Awaited<ReturnType<typeof createTeam>>;
  let b: Awaited<ReturnType<typeof createTeam>>;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    a = await createTeam();
    b = await createTeam();
    const api = await loginAs(ctx.app, a.worker.email);
    const created = await api
      .post('/api/persons')
      .send({ alias: 'Femme <script>alert(1)</script> gare', source: 'outreach' });
    personId = created.body.id;
  });
  afterAll(async () => ctx.close());

  it('when a visitor is not signed in, then a page redirects to /connexion with the way back', async () => {
    const res = await request(ctx.app).get(`/personnes/${personId}`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(
      `/connexion?retour=${encodeURIComponent(`/personnes/${personId}`)}`,
    );
    const home = await request(ctx.app).get('/');
    expect(home.status).toBe(302);
    expect(home.headers.location).toBe('/connexion');
  });

  it('when a form is posted without its CSRF token, then 403 and nothing is created', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const before = Number((await testKnex()('persons').count({ n: '*' }))[0].n);
    const res = await agent
      .post('/personnes/nouvelle')
      .type('form')
      .send({ alias: 'Sans jeton', source: 'outreach' });
    expect(res.status).toBe(403);
    expect(Number((await testKnex()('persons').count({ n: '*' }))[0].n)).toBe(before);
    expect(res.headers['content-type']).toMatch(/html/);
    expect(res.text).toContain('Formulaire expiré');
    const list = await agent.get('/api/persons?q=Sans%20jeton');
    expect(list.body.total).toBe(0);
  });

  it('when the CSRF token is sent, then the quick intake creates the person and redirects to the file', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const form = await agent.get('/personnes/nouvelle');
    const res = await agent
      .post('/personnes/nouvelle')
      .type('form')
      .send({ _csrf: csrfOf(form.text), alias: 'Avec jeton', source: 'outreach' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/personnes\/[0-9a-f-]{36}$/);
  });

  it('when a form is posted with a token from another session, then 403', async () => {
    const mine = await loginAs(ctx.app, a.worker.email);
    const other = await loginAs(ctx.app, a.worker2.email);
    const token = csrfOf((await other.get('/personnes/nouvelle')).text);
    await mine.get('/personnes/nouvelle');
    const res = await mine
      .post('/personnes/nouvelle')
      .type('form')
      .send({ _csrf: token, alias: 'Jeton volé', source: 'outreach' });
    expect(res.status).toBe(403);
  });

  it('when the JSON API is called without a CSRF token, then it still works', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const res = await agent.post('/api/persons').send({ alias: 'Par l’API', source: 'outreach' });
    expect(res.status).toBe(201);
  });

  it('when a worker of another structure opens the person page, then a 404 page in French', async () => {
    const outsider = await loginAs(ctx.app, b.worker.email);
    const res = await outsider.get(`/personnes/${personId}`);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/html/);
    expect(res.text).toContain('Page introuvable');
    expect(res.text).not.toContain('gare');
  });

  it('when a path does not exist, then a 404 page, while /api keeps JSON', async () => {
    const page = await request(ctx.app).get('/nulle-part');
    expect(page.status).toBe(404);
    expect(page.text).toContain('Page introuvable');
    const api = await request(ctx.app).get('/api/nulle-part');
    expect(api.status).toBe(404);
    expect(api.body.error.code).toBe('not_found');
  });

  it('when a personal page is served, then Cache-Control is no-store and text is escaped', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const res = await agent.get(`/personnes/${personId}`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('Femme &lt;script>alert(1)&lt;/script> gare');
    expect(res.text).not.toContain('<script>alert(1)</script>');
    for (const path of ['/', '/personnes', '/notifications']) {
      expect((await agent.get(path)).headers['cache-control']).toBe('no-store');
    }
  });

  it('when a page is served, then its CSP allows no inline script', async () => {
    const res = await request(ctx.app).get('/connexion');
    const csp = res.headers['content-security-policy'];
    const script = /script-src ([^;]+)/.exec(csp)?.[1] ?? '';
    expect(script).toContain("'self'");
    expect(script).not.toContain('unsafe-inline');
    expect(csp).toContain("default-src 'self'");
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('when the login form is used, then a wrong password keeps the email and a good one opens Mes actions', async () => {
    const agent = request.agent(ctx.app);
    const page = await agent.get('/connexion');
    const bad = await agent
      .post('/connexion')
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        email: a.worker.email,
        password: 'pas le bon mot de passe',
      });
    expect(bad.status).toBe(401);
    expect(bad.text).toContain('Adresse électronique ou mot de passe incorrect');
    expect(bad.text).toContain(`value="${a.worker.email}"`);
    const good = await agent
      .post('/connexion')
      .type('form')
      .send({ _csrf: csrfOf(bad.text), email: a.worker.email, password: DEFAULT_PASSWORD });
    expect(good.status).toBe(303);
    expect(good.headers.location).toBe('/');
    const home = await agent.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('<h1>Mes actions</h1>');
  });

  it('when someone signs in, then the session saved before the redirect already holds the form token of the pages to come', async () => {
    // express-session saves a regenerated session once more after the redirect's headers are
    // out; a token minted by the next page could be lost to that late save (a first form after
    // signing in answered "Formulaire expiré"). The token is in the session from the login on.
    const agent = request.agent(ctx.app);
    const page = await agent.get('/connexion');
    const good = await agent
      .post('/connexion')
      .type('form')
      .send({ _csrf: csrfOf(page.text), email: a.worker.email, password: DEFAULT_PASSWORD });
    expect(good.status).toBe(303);
    const stored = await storedSession(agent);
    expect(stored.csrfToken).toMatch(/^[0-9a-f]{20,}$/);
    const home = await agent.get('/');
    expect(csrfOf(home.text)).toBe(stored.csrfToken);
  });

  async function postLogin(form: Record<string, string>) {
    const agent = request.agent(ctx.app);
    const page = await agent.get('/connexion');
    return agent
      .post('/connexion')
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  it('when the login form is sent empty, then 400 with a message by each field', async () => {
    const res = await postLogin({ email: '  ', password: '' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Le formulaire contient 2 erreurs');
    expect(res.text).toContain(
      '<p id="email-error" class="fr-error-text">Indiquez votre adresse électronique',
    );
    expect(res.text).toContain(
      '<p id="password-error" class="fr-error-text">Indiquez votre mot de passe',
    );
  });

  it('when the email has spaces around it, then the API’s login schema trims it and the login works', async () => {
    const res = await postLogin({ email: `  ${a.worker.email} `, password: DEFAULT_PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  it('when the email or the password is over the API’s limits, then 400 by the field, not a cut value tried as a password', async () => {
    const longEmail = `${'a'.repeat(250)}@x.fr`;
    const email = await postLogin({ email: longEmail, password: DEFAULT_PASSWORD });
    expect(email.status).toBe(400);
    expect(email.text).toContain('id="email-error"');
    expect(email.text).toContain(`value="${longEmail}"`);
    // The right password followed by anything: once cut at 1 024 it would have been accepted.
    const password = await postLogin({
      email: a.worker.email,
      password: DEFAULT_PASSWORD + 'x'.repeat(1025 - DEFAULT_PASSWORD.length),
    });
    expect(password.status).toBe(400);
    expect(password.text).toContain('id="password-error"');
    expect(password.text).not.toContain('Adresse électronique ou mot de passe incorrect');
  });

  it('when a stray request fails between a form and its redirect, then the confirmation still shows', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const form = await agent.get('/personnes/nouvelle');
    const created = await agent
      .post('/personnes/nouvelle')
      .type('form')
      .send({ _csrf: csrfOf(form.text), alias: 'Confirmation gardée', source: 'outreach' });
    expect((await agent.get('/apple-touch-icon.png')).status).toBe(404);
    const file = await agent.get(created.headers.location);
    expect(file.text).toContain('La personne est enregistrée');
  });

  it.each([
    ['partner', '/orientations', 'Demandes reçues'],
    ['admin', '/admin', 'Administration'],
    ['observer', '/', 'Observation sociale'],
  ] as const)(
    'when a %s signs in through the form, then they land on %s and the menu offers it',
    async (role, home, menuLabel) => {
      const partner = role === 'partner' ? await createPartner() : undefined;
      const user = await createUser(a.structure.id, role, { partnerId: partner?.id });
      const agent = request.agent(ctx.app);
      const page = await agent.get('/connexion');
      const res = await agent
        .post('/connexion')
        .type('form')
        .send({ _csrf: csrfOf(page.text), email: user.email, password: DEFAULT_PASSWORD });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(home);
      const landing = await agent.get(home);
      expect(landing.status).toBe(200);
      expect(landing.text).toMatch(new RegExp(`href="${home}"[^>]*aria-current="page"`));
      expect(landing.text).toContain(menuLabel);
      // Person pages are not in their menu.
      expect(landing.text).not.toContain('href="/personnes"');
      // The header's home link leads to their home too, not to a 403.
      expect(landing.text).toContain(`<a href="${home}" title="Accueil - aller-vers">`);
    },
  );

  it('when the return path points to another site, then login goes home instead', async () => {
    const agent = request.agent(ctx.app);
    const page = await agent.get('/connexion?retour=//evil.example');
    expect(page.text).toContain('name="retour" value="/"');
  });

  it('when an observer signs in, then the person pages are refused with a 403 page', async () => {
    const agent = await loginAs(ctx.app, a.observer.email);
    const res = await agent.get('/personnes');
    expect(res.status).toBe(403);
    expect(res.text).toContain('Accès refusé');
  });

  /** Ends the agent's server session as the idle timeout would. */
  async function expire(agent: Awaited<ReturnType<typeof loginAs>>) {
    expect(await endSession(agentSessionId(agent))).toBe(1);
  }

  it('when a form is posted after the session expired, then the login page says what was lost and leads back to the form’s page', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const file = await agent.get(`/personnes/${personId}`);
    await expire(agent);
    const res = await agent
      .post(`/personnes/${personId}/contacts`)
      .set('Referer', `${ctx.config.publicUrl}/personnes/${personId}`)
      .type('form')
      .send({
        _csrf: csrfOf(file.text),
        channel: 'phone',
        outcome: 'reached',
        occurredAt: '2026-11-20T10:00',
      });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(
      `/connexion?session=expiree&retour=${encodeURIComponent(`/personnes/${personId}`)}`,
    );
    expect(await testKnex()('contacts').where({ person_id: personId })).toHaveLength(0);

    const login = await agent.get(res.headers.location);
    expect(login.status).toBe(200);
    expect(login.text).toContain(
      'Votre session a expiré ; ce que vous aviez saisi n’a pas été enregistré. Reconnectez-vous',
    );
    expect(login.text).toContain(`name="retour" value="/personnes/${personId}"`);
    const back = await agent
      .post('/connexion')
      .type('form')
      .send({
        _csrf: csrfOf(login.text),
        email: a.worker.email,
        password: DEFAULT_PASSWORD,
        retour: `/personnes/${personId}`,
      });
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe(`/personnes/${personId}`);
  });

  it('when a form sent back with its mistakes is sent again after the session expired, then login leads back to its page, not to the address it was posted to', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const file = await agent.get(`/personnes/${personId}`);
    // No channel: the file comes back with the mistake, at the address the form was posted to.
    const refused = await agent
      .post(`/personnes/${personId}/contacts`)
      .type('form')
      .send({ _csrf: csrfOf(file.text), outcome: 'reached', occurredAt: '2026-11-20T10:00' });
    expect(refused.status).toBe(400);
    await expire(agent);
    const res = await agent
      .post(`/personnes/${personId}/contacts`)
      .set('Referer', `${ctx.config.publicUrl}/personnes/${personId}/contacts`)
      .type('form')
      .send({
        _csrf: csrfOf(refused.text),
        channel: 'phone',
        outcome: 'reached',
        occurredAt: '2026-11-20T10:00',
      });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(
      `/connexion?session=expiree&retour=${encodeURIComponent(`/personnes/${personId}`)}`,
    );
    const login = await agent.get(res.headers.location);
    const back = await agent
      .post('/connexion')
      .type('form')
      .send({
        _csrf: csrfOf(login.text),
        email: a.worker.email,
        password: DEFAULT_PASSWORD,
        retour: `/personnes/${personId}`,
      });
    expect(back.headers.location).toBe(`/personnes/${personId}`);
    expect((await agent.get(back.headers.location)).status).toBe(200);
  });

  it.each([
    ['another site', 'https://evil.example/personnes'],
    ['a protocol-relative path', 'http://127.0.0.1:3000//evil.example/x'],
    ['nothing', ''],
  ])(
    'when a form is posted after the session expired from %s, then the login page does not lead there but to the form’s own page',
    async (_what, referer) => {
      const agent = await loginAs(ctx.app, a.worker.email);
      const page = await agent.get('/personnes/nouvelle');
      await expire(agent);
      const post = agent.post('/personnes/nouvelle').type('form');
      if (referer) post.set('Referer', referer);
      const res = await post.send({ _csrf: csrfOf(page.text), alias: 'Perdu', source: 'outreach' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(
        `/connexion?session=expiree&retour=${encodeURIComponent('/personnes/nouvelle')}`,
      );
    },
  );

  /** Signs the agent in through the login page it was sent to. */
  async function signInAgain(agent: Awaited<ReturnType<typeof loginAs>>, location: string) {
    const login = await agent.get(location);
    const retour = /name="retour" value="([^"]*)"/.exec(login.text)![1];
    return {
      login,
      signedIn: await agent
        .post('/connexion')
        .type('form')
        .send({
          _csrf: csrfOf(login.text),
          email: a.worker.email,
          password: DEFAULT_PASSWORD,
          retour,
        }),
    };
  }

  describe('a form refused for its session or its token keeps what was typed', () => {
    const typed = {
      channel: 'street',
      outcome: 'reached',
      occurredAt: '2026-11-20T10:00',
      summary: 'Rencontré au parvis,\r\nparle de son dossier RSA',
      privateNote: 'Semble fatigué',
    };

    it('when the kept form’s page is not opened within the idle timeout, then the next page shown drops it from the session', async () => {
      const agent = await loginAs(ctx.app, a.worker.email);
      const file = await agent.get(`/personnes/${personId}`);
      await expire(agent);
      const res = await agent
        .post(`/personnes/${personId}/contacts`)
        .set('Referer', `${ctx.config.publicUrl}/personnes/${personId}`)
        .type('form')
        .send({ _csrf: csrfOf(file.text), ...typed });
      expect(res.status).toBe(303);
      await signInAgain(agent, res.headers.location);
      // Still there while its page may be opened; gone once too old, whichever page is shown.
      expect((await agent.get('/notifications')).status).toBe(200);
      expect((await storedSession(agent)).keptForm).toBeDefined();
      const sid = agentSessionId(agent);
      const row = await testKnex()('sessions').where({ sid }).first('sess');
      const sess = typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess;
      sess.keptForm.at -= 31 * 60 * 1000;
      await testKnex()('sessions')
        .where({ sid })
        .update({ sess: JSON.stringify(sess) });
      expect((await agent.get('/notifications')).status).toBe(200);
      expect((await storedSession(agent)).keptForm).toBeUndefined();
    });

    it('when a contact is posted after the session expired, then login leads back to the file with the contact form filled again, once', async () => {
      const agent = await loginAs(ctx.app, a.worker.email);
      const file = await agent.get(`/personnes/${personId}`);
      await expire(agent);
      const res = await agent
        .post(`/personnes/${personId}/contacts`)
        .set('Referer', `${ctx.config.publicUrl}/personnes/${personId}`)
        .type('form')
        .send({ _csrf: csrfOf(file.text), ...typed, password: 'jamais gardé' });
      expect(res.status).toBe(303);
      // Kept in the new anonymous session: the posted text, never the token nor a password, nor
      // the private note (whoever signs in next on this browser may not be its author).
      const kept = (await storedSession(agent)).keptForm!;
      expect(kept.values).toEqual({
        channel: 'street',
        outcome: 'reached',
        occurredAt: '2026-11-20T10:00',
        summary: 'Rencontré au parvis,\nparle de son dossier RSA',
      });

      const { login, signedIn } = await signInAgain(agent, res.headers.location);
      expect(login.text).toContain(
        'Votre session a expiré ; rien n’a été enregistré, mais ce que vous aviez saisi est conservé.',
      );
      expect(signedIn.headers.location).toBe(`/personnes/${personId}`);
      const back = await agent.get(signedIn.headers.location);
      expect(back.status).toBe(200);
      expect(back.text).toContain('Votre session avait expiré : rien n’a été enregistré.');
      expect(back.text).toContain('Ce que vous aviez saisi est remis dans le formulaire');
      expect(back.text).toContain('href="#noter-contact"');
      expect(textareaValue(back.text, 'contact-summary')).toBe(
        'Rencontré au parvis,\nparle de son dossier RSA',
      );
      expect(textareaValue(back.text, 'contact-privateNote')).toBe('');
      expect(back.text).toMatch(/<option value="street" selected/);
      expect(inputValue(back.text, 'contact-occurredAt')).toBe('2026-11-20T10:00');
      expect(await testKnex()('contacts').where({ person_id: personId })).toHaveLength(0);

      // Given back once: the file opened again shows an empty form.
      const again = await agent.get(`/personnes/${personId}`);
      expect(again.text).not.toContain('Semble fatigué');
      expect(again.text).not.toContain('Votre saisie a été conservée');
      expect((await storedSession(agent)).keptForm).toBeUndefined();
    });

    it('when the page cannot fill its form again, then it shows what was typed read-only under the form’s labels', async () => {
      const agent = await loginAs(ctx.app, a.worker.email);
      const edit = await agent.get(`/personnes/${personId}/modifier`);
      await expire(agent);
      const res = await agent
        .post(`/personnes/${personId}/modifier`)
        .set('Referer', `${ctx.config.publicUrl}/personnes/${personId}/modifier`)
        .type('form')
        .send({
          _csrf: csrfOf(edit.text),
          alias: 'Femme gare',
          situation: 'Hébergée chez sa sœur',
        });
      const { signedIn } = await signInAgain(agent, res.headers.location);
      expect(signedIn.headers.location).toBe(`/personnes/${personId}/modifier`);
      const back = await agent.get(signedIn.headers.location);
      expect(back.text).toContain('Voici ce que vous aviez saisi');
      expect(back.text).toMatch(
        /<label class="fr-label" for="saisie-conservee-situation">Situation<\/label>/,
      );
      expect(textareaValue(back.text, 'saisie-conservee-situation')).toBe('Hébergée chez sa sœur');
      expect(back.text).toMatch(/<textarea[^>]*id="saisie-conservee-situation"[^>]*readonly/);
    });

    it('when the form is posted from another site, or holds nothing typed, or more than a session holds, then nothing is kept', async () => {
      const cases: [string, Record<string, string>, Record<string, string>][] = [
        ['another site', { Origin: 'https://evil.example' }, typed],
        [
          'nothing typed',
          { Referer: `${ctx.config.publicUrl}/personnes/${personId}` },
          {
            channel: 'phone',
            outcome: 'reached',
          },
        ],
        [
          'too much',
          { Referer: `${ctx.config.publicUrl}/personnes/${personId}` },
          {
            ...typed,
            summary: 'x'.repeat(40_001),
          },
        ],
      ];
      for (const [what, headers, body] of cases) {
        const agent = await loginAs(ctx.app, a.worker.email);
        const file = await agent.get(`/personnes/${personId}`);
        await expire(agent);
        const res = await agent
          .post(`/personnes/${personId}/contacts`)
          .set(headers)
          .type('form')
          .send({ _csrf: csrfOf(file.text), ...body });
        expect([what, res.status]).toEqual([what, 303]);
        const login = await agent.get(res.headers.location);
        expect([what, login.text]).toEqual([
          what,
          expect.stringContaining('saisissez-le à nouveau'),
        ]);
      }
    });

    it('when a form’s token is another session’s (a login since in another tab), then its page comes back with the form filled again', async () => {
      const agent = await loginAs(ctx.app, a.worker.email);
      const file = await agent.get(`/personnes/${personId}`);
      // The session ends; the user signs in again in another tab (the same cookies).
      await expire(agent);
      await signInAgain(agent, '/connexion');
      const res = await agent
        .post(`/personnes/${personId}/contacts`)
        .set('Referer', `${ctx.config.publicUrl}/personnes/${personId}`)
        .type('form')
        .send({ _csrf: csrfOf(file.text), ...typed });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/personnes/${personId}`);
      const back = await agent.get(res.headers.location);
      expect(back.text).toContain('Ce formulaire venait d’une session précédente');
      expect(textareaValue(back.text, 'contact-privateNote')).toBe('Semble fatigué');
      // Sent again from the page given back, it is saved.
      const saved = await agent
        .post(`/personnes/${personId}/contacts`)
        .type('form')
        .send({ _csrf: csrfOf(back.text), ...typed });
      expect(saved.status).toBe(303);
      expect(await testKnex()('contacts').where({ person_id: personId })).toHaveLength(1);
      await testKnex()('contacts').where({ person_id: personId }).del();
    });
  });

  it('when the login form is sent after its anonymous session expired, then the login form again with a fresh token and the address kept, not the 403 page', async () => {
    const agent = request.agent(ctx.app);
    const page = await agent.get(
      `/connexion?retour=${encodeURIComponent(`/personnes/${personId}`)}`,
    );
    await expire(agent);
    const res = await agent
      .post('/connexion')
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        email: a.worker.email,
        password: DEFAULT_PASSWORD,
        retour: `/personnes/${personId}`,
      });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('Formulaire expiré');
    expect(res.text).toContain('La page de connexion était ouverte depuis longtemps');
    expect(inputValue(res.text, 'email')).toBe(a.worker.email);
    expect(res.text).toContain(`name="retour" value="/personnes/${personId}"`);
    expect(csrfOf(res.text)).not.toBe(csrfOf(page.text));
    const good = await agent
      .post('/connexion')
      .type('form')
      .send({
        _csrf: csrfOf(res.text),
        email: a.worker.email,
        password: DEFAULT_PASSWORD,
        retour: `/personnes/${personId}`,
      });
    expect(good.status).toBe(303);
    expect(good.headers.location).toBe(`/personnes/${personId}`);
  });

  it('when logging out after the session expired, then the login page just says so', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const home = await agent.get('/');
    await expire(agent);
    const res = await agent
      .post('/deconnexion')
      .type('form')
      .send({ _csrf: csrfOf(home.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/connexion?deconnecte=1');
  });

  it('when pages are served, then the Referrer-Policy keeps addresses to this site', async () => {
    const res = await request(ctx.app).get('/connexion');
    expect(res.headers['referrer-policy']).toBe('same-origin');
  });

  it('when the session is logged out through the page, then the old cookie is redirected to login', async () => {
    const agent = await loginAs(ctx.app, a.worker.email);
    const home = await agent.get('/');
    const out = await agent
      .post('/deconnexion')
      .type('form')
      .send({ _csrf: csrfOf(home.text) });
    expect(out.status).toBe(303);
    expect((await agent.get('/')).status).toBe(302);
  });

  it('when a consent is withdrawn twice (a double click, a colleague), then the second lands on the person’s referrals saying it is already withdrawn', async () => {
    const partner = await createPartner(testKnex(), 'Épicerie solidaire', a.structure.id);
    const api = await loginAs(ctx.app, a.worker.email);
    const { id } = (
      await api.post('/api/persons').send({ alias: 'Homme au vélo', source: 'outreach' })
    ).body;
    const consent = (
      await api.post(`/api/persons/${id}/consents`).send({
        purpose: 'referral',
        partnerId: partner.id,
        method: 'oral',
        givenAt: '2026-11-01T10:00:00+01:00',
      })
    ).body;
    const path = `/consentements/${consent.id}/retrait`;
    const [worker, colleague] = await Promise.all([
      loginAs(ctx.app, a.worker.email),
      loginAs(ctx.app, a.worker2.email),
    ]);
    const [mine, theirs] = await Promise.all([worker.get(path), colleague.get(path)]);
    const confirm = (agent: typeof worker, page: string) =>
      agent
        .post(path)
        .type('form')
        .send({ _csrf: csrfOf(page), confirmation: 'oui' });

    const first = await confirm(worker, mine.text);
    expect(first.status).toBe(303);
    expect((await worker.get(first.headers.location)).text).toContain('Consentement retiré.');
    for (const [agent, page] of [
      [worker, mine.text],
      [colleague, theirs.text],
    ] as const) {
      const again = await confirm(agent, page);
      expect(again.status).toBe(303);
      expect(again.headers.location).toBe(`/personnes/${id}/orientations`);
      const list = await agent.get(again.headers.location);
      expect(list.status).toBe(200);
      expect(list.text).toContain('Ce consentement est déjà retiré.');
    }
    expect(
      await testKnex()('audit_events').where({ action: 'consent.revoke', subject_id: id }),
    ).toHaveLength(1);
  });

  it('when a page meets a conflict it does not handle itself, then a 409 page says in French that nothing was saved', async () => {
    const app = express();
    app.post('/formulaire', () => {
      throw new ConflictError('A team of this name exists already');
    });
    app.use(
      htmlErrorHandler(
        pino({ level: 'silent' }),
        { unreadCount: async () => 0 },
        { keptFileOf: async () => null },
        'http://127.0.0.1:3000',
      ),
    );
    const res = await request(app).post('/formulaire');
    expect(res.status).toBe(409);
    expect(res.text).toContain('Déjà fait ou plus possible');
    expect(res.text).toContain('Rien n’a été enregistré.');
    expect(res.text).not.toContain('Les informations envoyées ne sont pas valides');
  });
});
