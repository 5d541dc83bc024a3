import request from 'supertest';
import { fixedClock } from '../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam, createUser } from '../setup/factories';
import { csrfOf } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;

const ORIGIN = 'http://127.0.0.1:3000';
const FORM = {
  location: 'Arrêt de tram Foch',
  who: 'Femme ~30 ans <b>avec</b> une poussette',
  concern: 'Elle attend là chaque soir, sans manteau. <script>alert(1)</script>',
  reporterContact: '',
  website: '',
};

/** The report pages over HTTP: the public form, the partner's inbox form, the triage pages. */
describe('report pages over HTTP', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;
  let observer: Agent;
  let admin: Agent;
  let partner: Agent;
  let n = 0;

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock('2026-12-07T09:00:00Z') });
    team = await createTeam();
    const p = await createPartner(testKnex(), 'Restos du cœur', team.structure.id);
    const pu = await createUser(team.structure.id, 'partner', { partnerId: p.id });
    [worker, manager, observer, admin, partner] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.manager.email),
      loginAs(ctx.app, team.observer.email),
      loginAs(ctx.app, team.admin.email),
      loginAs(ctx.app, pu.email),
    ]);
  });
  afterAll(async () => ctx.close());

  const send = (form: Record<string, string>, origin = ORIGIN) => {
    n += 1;
    return request(ctx.app)
      .post(`/signaler/${team.structure.slug}`)
      .set('X-Forwarded-For', `10.20.0.${n}`)
      .set('Origin', origin)
      .type('form')
      .send(form);
  };

  async function sendReport(form = FORM) {
    const res = await send(form);
    expect(res.status).toBe(303);
    const receipt = /numero=([A-Z0-9-]+)/.exec(res.headers.location)![1];
    const row = await testKnex()('reports').where({ receipt_number: receipt }).first();
    return { id: row.id as string, receipt };
  }

  describe('the public form', () => {
    it('when a resident opens it, then it is in French, says what is done with the data, has a hidden honeypot, and makes no session', async () => {
      const res = await request(ctx.app).get(`/signaler/${team.structure.slug}`);
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.text).toContain('<html lang="fr"');
      expect(res.text).toContain('Signaler une personne en difficulté');
      expect(res.text).toContain('Ce que nous faisons de ces informations');
      expect(res.text).toContain('au plus 24 mois');
      expect(res.text).toContain('appelez le 115');
      expect(res.text).toContain('<div class="av-hp" hidden aria-hidden="true">');
      expect(res.text).toContain('name="website"');
      expect(res.text).toContain('name="viewport"');
      expect((await request(ctx.app).get('/signaler/inconnue')).status).toBe(404);
      expect((await request(ctx.app).get('/signaler/Pas_Un_Slug')).status).toBe(404);
    });

    it('when the form is sent, then it redirects to a receipt page showing the number, and the report waits in the queue', async () => {
      const { receipt } = await sendReport();
      const page = await request(ctx.app).get(
        `/signaler/${team.structure.slug}/recu?numero=${receipt}`,
      );
      expect(page.status).toBe(200);
      expect(page.text).toContain(receipt);
      expect(page.text).toContain('Merci, votre signalement est envoyé');
      expect(
        (await request(ctx.app).get(`/signaler/${team.structure.slug}/recu?numero=<x>`)).status,
      ).toBe(404);
    });

    it('when a field is missing or too long, then 400 with the French message next to the field and what was typed kept; nothing stored', async () => {
      const before = await testKnex()('reports').count('* as n');
      const res = await send({ ...FORM, concern: '', location: 'x'.repeat(201) });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Dites ce qui vous inquiète');
      expect(res.text).toContain('Saisissez 200 caractères au plus (201 saisis)');
      expect(res.text).toContain('Femme ~30 ans &lt;b>avec&lt;/b> une poussette');
      expect(await testKnex()('reports').count('* as n')).toEqual(before);
    });

    it('when the honeypot is filled, then the sender sees a receipt and nothing is stored', async () => {
      const before = await testKnex()('reports').count('* as n');
      const res = await send({ ...FORM, website: 'http://spam.example' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/\/recu\?numero=/);
      expect(await testKnex()('reports').count('* as n')).toEqual(before);
    });

    it('when the form is posted from another site, then 403 and nothing is stored', async () => {
      const res = await send(FORM, 'https://evil.example');
      expect(res.status).toBe(403);
    });

    it('when one address sends too many, then the form says to wait, with 429 and Retry-After', async () => {
      const statuses: number[] = [];
      let last: request.Response | null = null;
      for (let i = 0; i < 11; i++) {
        last = await request(ctx.app)
          .post(`/signaler/${team.structure.slug}`)
          .set('X-Forwarded-For', '10.21.0.1')
          .set('Origin', ORIGIN)
          .type('form')
          .send(FORM);
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(303));
      expect(last!.status).toBe(429);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.text).toContain('Trop de signalements ont été envoyés en peu de temps');
    });
  });

  describe('triage pages', () => {
    it('when a worker opens the queue, then the report is listed with its text escaped, and the menu links to it', async () => {
      const { id, receipt } = await sendReport();
      const res = await worker.get('/signalements');
      expect(res.status).toBe(200);
      expect(res.text).toContain('href="/signalements" aria-current="page"');
      expect(res.text).toContain(`href="/signalements/${id}"`);
      expect(res.text).toContain(receipt);
      expect(res.text).toContain('&lt;script>alert(1)&lt;/script>');
      expect(res.text).not.toContain('<script>alert(1)');
      expect((await worker.get('/signalements?statut=nimporte')).status).toBe(404);
    });

    it('when a worker opens a report, then it shows the look-alike files to link and the create and dismiss forms', async () => {
      const known = await worker.post('/api/persons').send({
        alias: 'Femme avec une poussette',
        place: 'Arrêt de tram Foch',
        source: 'outreach',
      });
      const { id, receipt } = await sendReport();
      const page = await worker.get(`/signalements/${id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Déjà connu·e ?');
      expect(page.text).toContain(`name="personId" value="${known.body.id}"`);
      expect(page.text).toContain('Créer la fiche');
      expect(page.text).toContain('Écarter');

      const linked = await worker
        .post(`/signalements/${id}/tri`)
        .type('form')
        .send({ _csrf: csrfOf(page.text), action: 'link', personId: known.body.id });
      expect(linked.status).toBe(303);
      expect(linked.headers.location).toBe(`/personnes/${known.body.id}`);
      const file = await worker.get(`/personnes/${known.body.id}`);
      expect(file.text).toContain(`Signalement ${receipt} rattaché à cette fiche.`);
      expect(file.text).toContain(`<a href="/signalements/${id}">${receipt}</a>`);
      expect(file.text).toContain('Elle attend là chaque soir, sans manteau. &lt;script>');
      const after = await worker.get(`/signalements/${id}`);
      expect(after.text).toContain('Rattaché à une fiche');
      expect(after.text).not.toContain('Créer la fiche');
    });

    it('when the person’s file is not among the look-alikes, then a search finds it and the report is linked to it; another structure’s file is refused', async () => {
      const known = await worker.post('/api/persons').send({
        firstName: 'Gaston',
        lastName: 'Lagaffe',
        place: 'Gare routière',
        source: 'outreach',
      });
      const { id, receipt } = await sendReport();
      const page = await worker.get(`/signalements/${id}`);
      expect(page.text).not.toContain(`name="personId" value="${known.body.id}"`);
      expect(page.text).toContain('Chercher une autre fiche');
      expect(page.text).toContain('<label class="fr-label" for="q">Nom, prénom, surnom ou lieu');
      const csrf = csrfOf(page.text);

      const empty = await worker
        .post(`/signalements/${id}/recherche`)
        .type('form')
        .send({ _csrf: csrf, q: ' ' });
      expect(empty.status).toBe(400);
      expect(empty.text).toContain('Saisissez un nom, un surnom ou un lieu');
      const found = await worker
        .post(`/signalements/${id}/recherche`)
        .type('form')
        .send({ _csrf: csrf, q: 'lagafe' });
      expect(found.status).toBe(200);
      expect(found.text).toContain('1 fiche trouvée');
      expect(found.text).toContain(`name="personId" value="${known.body.id}"`);
      expect(found.text).toContain(
        'Rattacher à cette fiche<span class="fr-sr-only"> : Gaston Lagaffe',
      );

      // Another structure's file: neither found nor linked, and the report still waits.
      const elsewhere = await createTeam();
      const outsider = await loginAs(ctx.app, elsewhere.worker.email);
      const theirs = await outsider.post('/api/persons').send({
        firstName: 'Gaston',
        lastName: 'Lagaffe',
        source: 'outreach',
      });
      const again = await worker
        .post(`/signalements/${id}/recherche`)
        .type('form')
        .send({ _csrf: csrf, q: 'lagaffe' });
      expect(again.text).not.toContain(theirs.body.id);
      const refused = await worker
        .post(`/signalements/${id}/tri`)
        .type('form')
        .send({ _csrf: csrf, action: 'link', personId: theirs.body.id });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('Choisissez une fiche de votre structure');
      expect((await worker.get(`/signalements/${id}`)).text).toContain('Rattacher à cette fiche');
      // Nor can they search from this structure's report.
      const theirPage = await outsider.get('/personnes');
      const notTheirs = await outsider
        .post(`/signalements/${id}/recherche`)
        .type('form')
        .send({ _csrf: csrfOf(theirPage.text), q: 'lagaffe' });
      expect(notTheirs.status).toBe(404);

      const linked = await worker
        .post(`/signalements/${id}/tri`)
        .type('form')
        .send({ _csrf: csrf, action: 'link', personId: known.body.id });
      expect(linked.status).toBe(303);
      expect(linked.headers.location).toBe(`/personnes/${known.body.id}`);
      const file = await worker.get(`/personnes/${known.body.id}`);
      expect(file.text).toContain(`<a href="/signalements/${id}">${receipt}</a>`);
    });

    it('when a report is dismissed without a reason, then 400 with the message; with one, back to the queue', async () => {
      const { id } = await sendReport();
      const page = await manager.get(`/signalements/${id}`);
      const csrf = csrfOf(page.text);
      const bad = await manager
        .post(`/signalements/${id}/tri`)
        .type('form')
        .send({ _csrf: csrf, action: 'dismiss', reason: '' });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('Indiquez pourquoi le signalement est écarté');
      const ok = await manager
        .post(`/signalements/${id}/tri`)
        .type('form')
        .send({ _csrf: csrf, action: 'dismiss', reason: 'Personne déjà hébergée' });
      expect(ok.status).toBe(303);
      expect(ok.headers.location).toBe('/signalements');
      const again = await manager
        .post(`/signalements/${id}/tri`)
        .type('form')
        .send({ _csrf: csrf, action: 'dismiss', reason: 'Doublon du signalement de lundi' });
      expect(again.status).toBe(409);
      expect(again.text).toContain('Ce signalement a été trié pendant que vous le traitiez');
      expect(again.text).toContain(
        'pour le reporter où il faut : « Doublon du signalement de lundi »',
      );
    });

    it('when observers, admins or partners open the queue or a report, then 403; without the CSRF token, 403', async () => {
      const { id } = await sendReport();
      for (const agent of [observer, admin, partner]) {
        expect((await agent.get('/signalements')).status).toBe(403);
        expect((await agent.get(`/signalements/${id}`)).status).toBe(403);
      }
      const noToken = await worker
        .post(`/signalements/${id}/tri`)
        .type('form')
        .send({ action: 'create_person' });
      expect(noToken.status).toBe(403);
      expect((await request(ctx.app).get('/signalements')).status).toBe(302);
    });

    it('when a manager opens the backlog, then the waiting reports are counted and listed', async () => {
      const page = await manager.get('/');
      expect(page.status).toBe(200);
      expect(page.text).toContain('Signalements à trier');
      expect(page.text).toContain(
        'href="/equipe/elements?groupBy=assignee&amp;key=none&amp;bucket=reports"',
      );
      const items = await manager.get('/equipe/elements?groupBy=assignee&key=none&bucket=reports');
      expect(items.status).toBe(200);
      expect(items.text).toContain('Alerte des cadres le');
      const waiting = await testKnex()('reports')
        .where({ structure_id: team.structure.id })
        .whereNull('triaged_at')
        .orderBy('created_at')
        .orderBy('id')
        .first('id');
      expect(items.text).toContain(`href="/signalements/${waiting.id}"`);
    });
  });

  describe('a partner’s inbox', () => {
    it('when a partner reports from their inbox, then the receipt is shown there; the form errors come back in French', async () => {
      const inbox = await partner.get('/orientations');
      expect(inbox.status).toBe(200);
      expect(inbox.text).toContain('Signaler une personne au CCAS');
      expect(inbox.text).toContain('Vous n’avez encore rien signalé.');
      const csrf = csrfOf(inbox.text);
      const bad = await partner
        .post('/orientations/signaler')
        .type('form')
        .send({ _csrf: csrf, location: '', concern: 'Inquiétude' });
      expect(bad.status).toBe(400);
      expect(bad.text).toMatch(/<title>Erreur — Demandes reçues — /);
      expect(bad.text).toContain('Indiquez où la personne se trouve ou a été vue');
      const ok = await partner.post('/orientations/signaler').type('form').send({
        _csrf: csrf,
        location: 'Local rue Saint-Aubin',
        who: '',
        concern: 'Famille sans chauffage',
      });
      expect(ok.status).toBe(303);
      const after = await partner.get('/orientations');
      const receipt = /Numéro de reçu : ([A-Z0-9-]+)\./.exec(after.text)?.[1];
      expect(receipt).toBeDefined();
      expect(after.text).toContain(`Reçu ${receipt}`);
      expect(after.text).toContain('en attente de tri');
      expect((await worker.post('/orientations/signaler').type('form').send({})).status).toBe(403);
    });
  });
});
