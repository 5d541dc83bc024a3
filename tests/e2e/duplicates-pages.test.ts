import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { csrfOf, inputValue, textareaValue } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;

const hiddenValue = (html: string, name: string) =>
  new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html)?.[1];

/**
 * The duplicates pages over HTTP: the intake's "Déjà connu·e ?" step, the place on the intake
 * and edit forms, and the manager's merge page.
 */
describe('duplicates and merge pages over HTTP', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let other: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let manager: Agent;

  beforeAll(async () => {
    ctx = await createTestContext();
    [team, other] = await Promise.all([createTeam(), createTeam()]);
    [worker, manager] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.manager.email),
    ]);
  });
  afterAll(async () => ctx.close());

  async function newPerson(agent: Agent, body: Record<string, unknown>) {
    const res = await agent.post('/api/persons').send({ source: 'outreach', ...body });
    expect(res.status).toBe(201);
    return res.body as { id: string; version: number };
  }

  async function post(agent: Agent, from: string, path: string, form: Record<string, string>) {
    const page = await agent.get(from);
    return agent
      .post(path)
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  const count = async () => Number((await testKnex()('persons').count('* as n'))[0].n);

  describe('intake: "Déjà connu·e ?"', () => {
    const typed = {
      alias: '',
      place: 'quai Ligny',
      source: 'outreach',
      firstName: 'Helene',
      lastName: 'Lefebvre',
      birthYear: '1962',
      phone: '',
      situation: 'Rencontrée au marché',
    };

    it('when the person typed looks like a known one, then the page offers it with why, keeps every value, and records nothing yet', async () => {
      const known = await newPerson(worker, {
        firstName: 'Hélène',
        lastName: 'Lefèvre',
        birthYear: 1962,
        place: 'quai de Ligny',
      });
      const before = await count();
      const res = await post(worker, '/personnes/nouvelle', '/personnes/nouvelle', typed);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<title>Déjà connu·e ? — Nouvelle personne');
      expect(res.text).toContain('Déjà connu·e ?');
      expect(res.text).toContain(`href="/personnes/${known.id}"`);
      expect(res.text).toContain('Hélène Lefèvre');
      expect(res.text).toMatch(
        /Pourquoi : nom proche, lieu proche \(quai de Ligny\), même année de naissance \(1962\)/,
      );
      expect(inputValue(res.text, 'firstName')).toBe('Helene');
      expect(inputValue(res.text, 'lastName')).toBe('Lefebvre');
      expect(inputValue(res.text, 'place')).toBe('quai Ligny');
      expect(inputValue(res.text, 'birthYear')).toBe('1962');
      expect(res.text).toContain('Rencontrée au marché');
      expect(res.text).toContain('Ce n’est pas la même personne : enregistrer');
      expect(hiddenValue(res.text, 'verifie')).toMatch(/^[0-9a-f]{32}$/);
      expect(await count()).toBe(before);
    });

    it('when the user goes on with the same values, then the new file is recorded, with its place', async () => {
      const first = await post(worker, '/personnes/nouvelle', '/personnes/nouvelle', typed);
      const verifie = hiddenValue(first.text, 'verifie')!;
      const before = await count();
      const res = await worker
        .post('/personnes/nouvelle')
        .type('form')
        .send({ _csrf: csrfOf(first.text), ...typed, verifie });
      expect(res.status).toBe(303);
      const id = /\/personnes\/([0-9a-f-]{36})$/.exec(res.headers.location)![1];
      expect(await count()).toBe(before + 1);
      const created = (await worker.get(`/api/persons/${id}`)).body;
      expect(created).toMatchObject({ firstName: 'Helene', place: 'quai Ligny', birthYear: 1962 });
      const page = await worker.get(`/personnes/${id}`);
      expect(page.text).toContain('Lieu de rencontre');
      expect(page.text).toContain('quai Ligny');
    });

    it('when the values change after the candidates were shown, then they are checked again', async () => {
      const first = await post(worker, '/personnes/nouvelle', '/personnes/nouvelle', typed);
      const verifie = hiddenValue(first.text, 'verifie')!;
      const before = await count();
      const res = await worker
        .post('/personnes/nouvelle')
        .type('form')
        .send({ _csrf: csrfOf(first.text), ...typed, lastName: 'Lefèvre', verifie });
      expect(res.status).toBe(200);
      expect(res.text).toContain('Déjà connu·e ?');
      expect(await count()).toBe(before);
    });

    it('when nobody known looks like the person, then it is recorded at once', async () => {
      const res = await post(worker, '/personnes/nouvelle', '/personnes/nouvelle', {
        alias: 'Jeune femme, skate-park de la Roseraie',
        source: 'outreach',
      });
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/personnes\/[0-9a-f-]{36}$/);
    });

    it('when another structure knows the same person, then nothing is offered', async () => {
      const outsider = await loginAs(ctx.app, other.worker.email);
      await newPerson(outsider, { firstName: 'Gaston', lastName: 'Lagaffe', birthYear: 1957 });
      const res = await post(worker, '/personnes/nouvelle', '/personnes/nouvelle', {
        firstName: 'Gaston',
        lastName: 'Lagaffe',
        birthYear: '1957',
        source: 'outreach',
      });
      expect(res.status).toBe(303);
    });

    it('when the place is too long, then the form says so and keeps it', async () => {
      const res = await post(worker, '/personnes/nouvelle', '/personnes/nouvelle', {
        alias: 'Homme',
        source: 'outreach',
        place: 'x'.repeat(201),
      });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Saisissez 200 caractères au plus (201 saisis)');
      expect(inputValue(res.text, 'place')).toBe('x'.repeat(201));
    });
  });

  it('when the file is edited, then its place is shown and saved', async () => {
    const p = await newPerson(worker, { alias: 'Homme ~60 ans', place: 'gare Saint-Laud' });
    const page = await worker.get(`/personnes/${p.id}/modifier`);
    expect(inputValue(page.text, 'place')).toBe('gare Saint-Laud');
    const res = await worker
      .post(`/personnes/${p.id}/modifier`)
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        alias: 'Homme ~60 ans',
        place: 'parvis de la gare',
        source: 'outreach',
        version: String(p.version),
      });
    expect(res.status).toBe(303);
    expect((await worker.get(`/api/persons/${p.id}`)).body.place).toBe('parvis de la gare');
  });

  describe('the merge page', () => {
    it('when a worker opens it, then 403, and the file offers no merge to a worker; a manager sees the way in', async () => {
      const p = await newPerson(worker, { alias: 'Monsieur Tournesol' });
      expect((await worker.get(`/personnes/${p.id}/fusion`)).status).toBe(403);
      expect((await worker.get(`/personnes/${p.id}`)).text).not.toContain('/fusion');
      expect((await manager.get(`/personnes/${p.id}`)).text).toContain(
        `href="/personnes/${p.id}/fusion"`,
      );
    });

    it('when a manager opens it, then the look-alikes are offered; comparing shows both side by side; confirming merges into the chosen file', async () => {
      const a = await newPerson(worker, {
        firstName: 'Abdel',
        lastName: 'Kader',
        phone: '06 11 22 33 44',
      });
      const b = await newPerson(worker, {
        alias: 'Abdel du square',
        lastName: 'Kadder',
        place: 'square du Ralliement',
        phone: '+33 6 11 22 33 44',
      });
      await worker
        .post(`/api/persons/${a.id}/contacts`)
        .send({ occurredAt: '2026-11-20T10:00:00+01:00', channel: 'street', outcome: 'reached' })
        .expect(201);
      const choose = await manager.get(`/personnes/${a.id}/fusion`);
      expect(choose.status).toBe(200);
      expect(choose.text).toContain('Les fiches qui lui ressemblent');
      expect(choose.text).toContain(`href="/personnes/${a.id}/fusion?avec=${b.id}"`);
      expect(choose.text).toContain('même numéro de téléphone');

      const compare = await manager.get(`/personnes/${a.id}/fusion?avec=${b.id}`);
      expect(compare.status).toBe(200);
      expect(compare.text).toContain('Les deux fiches côte à côte');
      expect(compare.text).toContain('square du Ralliement');
      expect(compare.text).toContain('Kadder');
      expect(hiddenValue(compare.text, 'versionCe')).toBe('1');
      expect(hiddenValue(compare.text, 'versionAutre')).toBe('1');

      // Keep the other file: this one merges into it.
      const res = await manager
        .post(`/personnes/${a.id}/fusion`)
        .type('form')
        .send({
          _csrf: csrfOf(compare.text),
          avec: b.id,
          versionCe: hiddenValue(compare.text, 'versionCe'),
          versionAutre: hiddenValue(compare.text, 'versionAutre'),
          garder: 'autre',
        });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/personnes/${b.id}`);
      const kept = await manager.get(`/personnes/${b.id}`);
      expect(kept.text).toContain('Les deux fiches sont fusionnées');
      expect(kept.text).toContain('Abdel Kadder (Abdel du square)');
      expect((await manager.get(`/api/persons/${b.id}/timeline`)).body.total).toBe(1);
      // The merged file is gone; an old link to it says where it went, in the structure only.
      const gone = await worker.get(`/personnes/${a.id}`);
      expect(gone.status).toBe(404);
      expect(gone.text).toContain('Fiche fusionnée');
      expect(gone.text).toContain(`href="/personnes/${b.id}"`);
      const outsider = await loginAs(ctx.app, other.worker.email);
      const elsewhere = await outsider.get(`/personnes/${a.id}`);
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.text).not.toContain('Fiche fusionnée');
      expect(elsewhere.text).not.toContain(b.id);
    });

    it('when the other file is closed and this one open, then the comparison says the kept file will be reopened if the other is kept', async () => {
      const a = await newPerson(worker, { alias: 'Monsieur Nestor' });
      const b = await newPerson(worker, { alias: 'Nestor, ancien dossier' });
      const both = await manager.get(`/personnes/${a.id}/fusion?avec=${b.id}`);
      expect(both.text).not.toContain('sera rouverte');
      await worker
        .patch(`/api/persons/${b.id}`)
        .send({ closedReason: 'moved', version: 1 })
        .expect(200);
      const compare = await manager.get(`/personnes/${a.id}/fusion?avec=${b.id}`);
      expect(compare.text).toContain(
        'si vous conservez l’autre fiche, la fiche conservée sera rouverte',
      );
      expect(compare.text).not.toContain('si vous conservez cette fiche');
    });

    it('when the confirmation is sent twice (a double tap), then the second also leads to the kept file with the success message, whichever file is kept', async () => {
      for (const garder of ['autre', 'ce'] as const) {
        const a = await newPerson(worker, { alias: `Professeur Tournesol ${garder}` });
        const b = await newPerson(worker, { alias: `Tryphon Tournesol ${garder}` });
        const compare = await manager.get(`/personnes/${a.id}/fusion?avec=${b.id}`);
        expect(compare.text).toMatch(
          new RegExp(
            `<form method="post" action="/personnes/${a.id}/fusion" novalidate data-submit-once`,
          ),
        );
        const confirm = () =>
          manager
            .post(`/personnes/${a.id}/fusion`)
            .type('form')
            .send({
              _csrf: csrfOf(compare.text),
              avec: b.id,
              versionCe: '1',
              versionAutre: '1',
              garder,
            });
        const keptId = garder === 'ce' ? a.id : b.id;
        expect((await confirm()).headers.location).toBe(`/personnes/${keptId}`);
        await manager.get(`/personnes/${keptId}`);
        const again = await confirm();
        expect(again.status).toBe(303);
        expect(again.headers.location).toBe(`/personnes/${keptId}`);
        const kept = await manager.get(`/personnes/${keptId}`);
        expect(kept.text).toContain('Les deux fiches sont fusionnées');
      }
    });

    it('when a file changed since the comparison, then 409: nothing merged, both shown as they stand, confirm again', async () => {
      const a = await newPerson(worker, { alias: 'Madame Castafiore' });
      const b = await newPerson(worker, { alias: 'Mme Castafiore, opéra' });
      const compare = await manager.get(`/personnes/${a.id}/fusion?avec=${b.id}`);
      await worker.patch(`/api/persons/${b.id}`).send({ place: 'opéra', version: 1 }).expect(200);
      const res = await manager
        .post(`/personnes/${a.id}/fusion`)
        .type('form')
        .send({
          _csrf: csrfOf(compare.text),
          avec: b.id,
          versionCe: '1',
          versionAutre: '1',
          garder: 'ce',
        });
      expect(res.status).toBe(409);
      expect(res.text).toContain('Une des deux fiches a changé entre-temps');
      expect(hiddenValue(res.text, 'versionAutre')).toBe('2');
      expect(res.text).toMatch(/id="garder-ce"[^>]*checked/);
      expect((await manager.get(`/api/persons/${b.id}`)).status).toBe(200);
      expect((await manager.get(`/api/persons/${a.id}`)).status).toBe(200);
    });

    it('when a manager searches for the other file, then the results (this file aside) can be compared', async () => {
      const a = await newPerson(worker, { alias: 'Monsieur Séraphin' });
      const b = await newPerson(worker, { firstName: 'Séraphin', lastName: 'Lampion' });
      const page = await manager.get(`/personnes/${a.id}/fusion`);
      const res = await manager
        .post(`/personnes/${a.id}/fusion/recherche`)
        .type('form')
        .send({ _csrf: csrfOf(page.text), q: 'seraphin' });
      expect(res.status).toBe(200);
      expect(res.text).toContain(`href="/personnes/${a.id}/fusion?avec=${b.id}"`);
      expect(res.text).not.toContain(`avec=${a.id}"`);
      const empty = await manager
        .post(`/personnes/${a.id}/fusion/recherche`)
        .type('form')
        .send({ _csrf: csrfOf(page.text), q: '  ' });
      expect(empty.status).toBe(400);
      expect(empty.text).toContain('Saisissez un nom, un surnom ou un lieu');
    });

    it('when the other file is another structure’s or not an id, then 404; without a file to keep chosen, the form says so', async () => {
      const a = await newPerson(worker, { alias: 'Ici' });
      const outsider = await loginAs(ctx.app, other.worker.email);
      const theirs = await newPerson(outsider, { alias: 'Ailleurs' });
      expect((await manager.get(`/personnes/${a.id}/fusion?avec=${theirs.id}`)).status).toBe(404);
      expect((await manager.get(`/personnes/${a.id}/fusion?avec=nimporte`)).status).toBe(404);
      const b = await newPerson(worker, { alias: 'Là' });
      const compare = await manager.get(`/personnes/${a.id}/fusion?avec=${b.id}`);
      const res = await manager
        .post(`/personnes/${a.id}/fusion`)
        .type('form')
        .send({ _csrf: csrfOf(compare.text), avec: b.id, versionCe: '1', versionAutre: '1' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Choisissez la fiche à conserver.');
      const stranger = await manager
        .post(`/personnes/${a.id}/fusion`)
        .type('form')
        .send({
          _csrf: csrfOf(compare.text),
          avec: theirs.id,
          versionCe: '1',
          versionAutre: '1',
          garder: 'ce',
        });
      expect(stranger.status).toBe(404);
      expect((await outsider.get(`/api/persons/${theirs.id}`)).status).toBe(200);
    });
  });
  describe('a file merged while a page of it was open', () => {
    async function mergedPair(alias: string) {
      const merged = await newPerson(worker, { alias });
      const kept = await newPerson(worker, { alias: `${alias}, du parc` });
      return { merged, kept };
    }
    const merge = (mergedId: string, keptId: string) =>
      manager
        .post(`/api/persons/${mergedId}/merge`)
        .send({ intoId: keptId, version: 1, intoVersion: 1 })
        .expect(200);

    it('when a worker then posts a contact to the merged file, then 303 to the kept file, which gives the summary back and says why; no contact is recorded', async () => {
      const { merged, kept } = await mergedPair('Madame Irma');
      const open = await worker.get(`/personnes/${merged.id}`);
      await merge(merged.id, kept.id);
      const summary = 'Longue conversation au parc :\nelle accepte un rendez-vous à la CAF lundi.';
      const res = await worker
        .post(`/personnes/${merged.id}/contacts`)
        .set('Referer', `${ctx.config.publicUrl}/personnes/${merged.id}`)
        .type('form')
        .send({
          _csrf: csrfOf(open.text),
          occurredAt: '2026-11-20T10:00',
          channel: 'street',
          outcome: 'reached',
          summary,
        });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/personnes/${kept.id}`);
      const back = await worker.get(res.headers.location);
      expect(back.status).toBe(200);
      expect(back.text).toContain('a été fusionnée entre-temps avec celle-ci');
      expect(back.text).toContain('Ce que vous aviez saisi est remis dans le formulaire');
      expect(textareaValue(back.text, 'contact-summary')).toBe(summary);
      expect(back.text).toContain(`action="/personnes/${kept.id}/contacts"`);
      expect(await testKnex()('contacts').whereIn('person_id', [merged.id, kept.id])).toEqual([]);
    });

    it('when a page of the merged file is opened (the file, its form, its journal), then each is the 404 "Fiche fusionnée" leading to the kept file', async () => {
      const { merged, kept } = await mergedPair('Monsieur Wagner');
      await merge(merged.id, kept.id);
      for (const [page, link] of [
        ['', `/personnes/${kept.id}`],
        ['/modifier', `/personnes/${kept.id}`],
        ['/journal', `/personnes/${kept.id}/journal`],
      ]) {
        const res = await manager.get(`/personnes/${merged.id}${page}`);
        expect({ page, status: res.status }).toEqual({ page, status: 404 });
        expect(res.text).toContain('Fiche fusionnée');
        expect(res.text).toContain(`href="${link}"`);
      }
      const edit = await worker.get(`/personnes/${merged.id}/modifier`);
      expect(edit.status).toBe(404);
      expect(edit.text).toContain('Fiche fusionnée');
      const outsider = await loginAs(ctx.app, other.worker.email);
      const elsewhere = await outsider.get(`/personnes/${merged.id}/modifier`);
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.text).not.toContain('Fiche fusionnée');
      expect(elsewhere.text).not.toContain(kept.id);
    });
  });
});
