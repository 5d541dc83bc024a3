import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createDistrict, createPartner, createTeam, createUser } from '../setup/factories';
import { csrfOf, inputValue, textareaValue } from './html';
import { ANONYMISED_TEXT } from '../../server/web/forms';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** The edit form's hidden version: the first one on the page (the close form comes after). */
const versionOf = (html: string) => /name="version" value="([^"]*)"/.exec(html)?.[1];

describe('person file editing pages', () => {
  let ctx: TestContext;
  let a: Awaited<ReturnType<typeof createTeam>>;
  let b: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let colleague: Agent;
  let north: { id: string; name: string };
  let south: { id: string; name: string };
  let otherDistrict: { id: string; name: string };

  beforeAll(async () => {
    ctx = await createTestContext();
    a = await createTeam();
    b = await createTeam();
    await testKnex()('users').where({ id: a.worker2.id }).update({ name: 'Zoé Collègue' });
    north = await createDistrict(a.structure.id, 'Belle-Beille', true);
    south = await createDistrict(a.structure.id, 'Centre-ville', false);
    otherDistrict = await createDistrict(b.structure.id, 'Quartier voisin', true);
    worker = await loginAs(ctx.app, a.worker.email);
    colleague = await loginAs(ctx.app, a.worker2.email);
  });
  afterAll(async () => ctx.close());

  async function newPerson(extra: Record<string, unknown> = {}): Promise<string> {
    const res = await worker.post('/api/persons').send({
      alias: 'Homme ~50 ans, parvis',
      source: 'outreach',
      phone: '06 12 34 56 78',
      address: '3 rue des Lices',
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  /** Posts the edit form as a browser would: every field, from the page's current values. */
  async function submitEdit(
    agent: Agent,
    id: string,
    page: string,
    changes: Record<string, string>,
  ) {
    const fields: Record<string, string> = {
      alias: inputValue(page, 'alias') ?? '',
      firstName: inputValue(page, 'firstName') ?? '',
      lastName: inputValue(page, 'lastName') ?? '',
      birthYear: inputValue(page, 'birthYear') ?? '',
      gender: '',
      phone: inputValue(page, 'phone') ?? '',
      email: inputValue(page, 'email') ?? '',
      address: textareaValue(page, 'address') ?? '',
      districtId: '',
      householdType: '',
      source: 'outreach',
      referentId: a.worker.id,
      situation: '',
    };
    return agent
      .post(`/personnes/${id}/modifier`)
      .type('form')
      .send({ _csrf: csrfOf(page), version: versionOf(page), ...fields, ...changes });
  }

  it('when a worker opens the edit page, then every field is pre-filled with the version, districts (QPV) and referents to choose from', async () => {
    const id = await newPerson({ birthYear: 1975, districtId: north.id, pauseReminders: true });
    const file = await worker.get(`/personnes/${id}`);
    expect(file.text).toContain(`href="/personnes/${id}/modifier"`);
    const res = await worker.get(`/personnes/${id}/modifier`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('Modifier la fiche de Homme ~50 ans, parvis');
    expect(inputValue(res.text, 'alias')).toBe('Homme ~50 ans, parvis');
    expect(inputValue(res.text, 'birthYear')).toBe('1975');
    expect(inputValue(res.text, 'phone')).toBe('06 12 34 56 78');
    expect(versionOf(res.text)).toBe('1');
    expect(res.text).toContain(`<option value="${north.id}" selected>Belle-Beille (QPV)</option>`);
    expect(res.text).toContain(`<option value="${south.id}">Centre-ville</option>`);
    expect(res.text).not.toContain('Quartier voisin');
    expect(res.text).toContain(`<option value="${a.worker.id}" selected>`);
    expect(res.text).toContain(`<option value="${a.worker2.id}">Zoé Collègue</option>`);
    expect(res.text).not.toContain(a.observer.name);
    expect(res.text).toContain('Suspendre les relances automatiques');
    expect(res.text).toMatch(/<input[^>]*id="pauseReminders"[^>]*checked/);
    for (const label of ['Genre', 'Courriel', 'Adresse postale', 'Composition du foyer'])
      expect(res.text).toContain(label);
    expect(res.text).toContain('Clôturer la fiche');
  });

  it('when the worker completes the file, then it is saved and an emptied field is cleared', async () => {
    const id = await newPerson({ pauseReminders: true });
    const page = (await worker.get(`/personnes/${id}/modifier`)).text;
    const res = await submitEdit(worker, id, page, {
      firstName: 'Jean',
      lastName: 'Dupont',
      birthYear: '1974',
      gender: 'male',
      phone: '',
      email: 'jean.dupont@example.test',
      districtId: south.id,
      householdType: 'single',
      referentId: a.worker2.id,
      situation: 'Dort à la gare ;\r\nvient à l’accueil le mardi',
      // The checkbox left unticked: reminders resume.
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/personnes/${id}`);
    const saved = (await worker.get(`/api/persons/${id}`)).body;
    expect(saved).toMatchObject({
      firstName: 'Jean',
      lastName: 'Dupont',
      birthYear: 1974,
      gender: 'male',
      phone: null,
      email: 'jean.dupont@example.test',
      address: '3 rue des Lices',
      districtId: south.id,
      householdType: 'single',
      referentId: a.worker2.id,
      pauseReminders: false,
      version: 2,
    });
    expect(saved.situation).toContain('vient à l’accueil le mardi');
    const file = await worker.get(`/personnes/${id}`);
    expect(file.text).toContain('La fiche est mise à jour.');
    expect(file.text).toContain('Jean Dupont (Homme ~50 ans, parvis)');
    expect(file.text).toContain('Zoé Collègue');
  });

  it('when the form has mistakes, then 400 keeps what was typed with a message by each field, and nothing changes', async () => {
    const id = await newPerson();
    const page = (await worker.get(`/personnes/${id}/modifier`)).text;
    const res = await submitEdit(worker, id, page, {
      alias: '',
      firstName: '',
      birthYear: 'soixante',
      email: 'pas-un-courriel',
      phone: 'abc',
      address: 'Nouvelle adresse',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Le formulaire contient 4 erreurs');
    expect(res.text).toContain('Indiquez un surnom, une courte description ou un nom');
    expect(res.text).toContain('Indiquez une année sur 4 chiffres, par exemple 1975');
    expect(res.text).toContain('Indiquez une adresse électronique, par exemple nom@exemple.fr');
    expect(res.text).toContain('Indiquez un numéro de téléphone');
    expect(res.text).toContain('id="birthYear-error"');
    expect(inputValue(res.text, 'birthYear')).toBe('soixante');
    expect(inputValue(res.text, 'email')).toBe('pas-un-courriel');
    expect(textareaValue(res.text, 'address')).toBe('Nouvelle adresse');
    expect(versionOf(res.text)).toBe('1');
    const saved = (await worker.get(`/api/persons/${id}`)).body;
    expect(saved.address).toBe('3 rue des Lices');
    expect(saved.version).toBe(1);
  });

  it('when someone else saved the file meanwhile, then 409 keeps the typed values, names the differing fields with their saved value, and a second submit applies them', async () => {
    const id = await newPerson();
    const page = (await worker.get(`/personnes/${id}/modifier`)).text;
    // A colleague completes the same file first.
    const theirs = await colleague
      .patch(`/api/persons/${id}`)
      .send({ version: 1, firstName: 'Jeannot', phone: '07 00 00 00 00' });
    expect(theirs.status).toBe(200);

    const stale = await submitEdit(worker, id, page, {
      firstName: 'Jean',
      lastName: 'Dupont',
    });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain("Quelqu'un a modifié cette fiche pendant que vous la modifiiez");
    // What the worker typed is still in the form.
    expect(inputValue(stale.text, 'firstName')).toBe('Jean');
    expect(inputValue(stale.text, 'lastName')).toBe('Dupont');
    expect(inputValue(stale.text, 'phone')).toBe('06 12 34 56 78');
    // The fields that differ, each with its saved value; the others are not listed.
    const alert = /<div class="fr-alert fr-alert--warning[\s\S]*?<\/div>/.exec(stale.text)?.[0];
    expect(alert).toBeDefined();
    expect(alert).toContain('<a href="#firstName">Prénom</a> : « Jeannot »');
    expect(alert).toContain('<a href="#lastName">Nom</a> : non renseigné');
    expect(alert).toContain('<a href="#phone">Téléphone</a> : « 07 00 00 00 00 »');
    expect(alert).not.toContain('Surnom');
    expect(alert).not.toContain('Adresse');
    expect(stale.text).toContain('id="firstName-saved"');
    expect(stale.text).not.toContain('id="alias-saved"');
    // The hidden version is now the saved one; nothing of the worker's was written.
    expect(versionOf(stale.text)).toBe('2');
    let saved = (await worker.get(`/api/persons/${id}`)).body;
    expect(saved).toMatchObject({ firstName: 'Jeannot', lastName: null, version: 2 });

    // Saving again applies the worker's values on purpose.
    const again = await submitEdit(worker, id, stale.text, {
      firstName: 'Jean',
      lastName: 'Dupont',
    });
    expect(again.status).toBe(303);
    saved = (await worker.get(`/api/persons/${id}`)).body;
    expect(saved).toMatchObject({
      firstName: 'Jean',
      lastName: 'Dupont',
      phone: '06 12 34 56 78',
      version: 3,
    });
  });

  it('when the box moving the follow-ups with the référent is unticked and the save is refused (409 or 400), then the form comes back with it unticked; ticked, it stays ticked', async () => {
    const box = (html: string) => /<input type="checkbox" id="moveFollowUps"[^>]*>/.exec(html)?.[0];
    const id = await newPerson();
    const page = (await worker.get(`/personnes/${id}/modifier`)).text;
    expect(box(page)).toContain('checked');
    await colleague
      .patch(`/api/persons/${id}`)
      .send({ version: 1, firstName: 'Jeannot' })
      .expect(200);
    // A browser sends nothing for an unticked box.
    const stale = await submitEdit(worker, id, page, { firstName: 'Jean' });
    expect(stale.status).toBe(409);
    expect(box(stale.text)).toBeDefined();
    expect(box(stale.text)).not.toContain('checked');
    const wrong = await submitEdit(worker, id, stale.text, { birthYear: 'abc' });
    expect(wrong.status).toBe(400);
    expect(box(wrong.text)).not.toContain('checked');
    const ticked = await submitEdit(worker, id, page, { firstName: 'Jean', moveFollowUps: '1' });
    expect(ticked.status).toBe(409);
    expect(box(ticked.text)).toContain('checked');
  });

  it('when the file is closed with a reason and then reopened, then the status follows', async () => {
    const id = await newPerson();
    const page = (await worker.get(`/personnes/${id}/modifier`)).text;
    expect(page).toContain('<option value="moved">Déménagement</option>');
    expect(page).toContain('<option value="no_contact">Sans contact depuis longtemps</option>');

    const noReason = await worker
      .post(`/personnes/${id}/cloturer`)
      .type('form')
      .send({ _csrf: csrfOf(page), version: '1', closedReason: '' });
    expect(noReason.status).toBe(400);
    expect(noReason.text).toContain('Choisissez le motif de clôture');

    const closed = await worker
      .post(`/personnes/${id}/cloturer`)
      .type('form')
      .send({ _csrf: csrfOf(noReason.text), version: '1', closedReason: 'moved' });
    expect(closed.status).toBe(303);
    expect(closed.headers.location).toBe(`/personnes/${id}`);
    const file = await worker.get(`/personnes/${id}`);
    expect(file.text).toContain('La fiche est clôturée (motif : Déménagement).');
    expect(file.text).toContain('Clôturé</span>');
    expect(file.text).toContain('(Déménagement)');
    expect((await worker.get(`/api/persons/${id}`)).body).toMatchObject({
      status: 'closed',
      closedReason: 'moved',
      version: 2,
    });

    const edit = await worker.get(`/personnes/${id}/modifier`);
    expect(edit.text).toContain('Rouvrir la fiche');
    expect(edit.text).not.toContain('Choisir un motif');
    // A stale reopen (version 1) does not go through; the page says why, at the saved version.
    const back = await worker
      .post(`/personnes/${id}/rouvrir`)
      .type('form')
      .send({ _csrf: csrfOf(edit.text), version: '1' });
    expect(back.status).toBe(409);
    expect(back.text).toContain(
      'Quelqu’un a modifié cette fiche pendant que vous la clôturiez ou la rouvriez',
    );
    expect(back.text).toMatch(
      /action="\/personnes\/[^"]+\/rouvrir"><input[^>]*><input type="hidden" name="version" value="2"/,
    );
    expect((await worker.get(`/api/persons/${id}`)).body.status).toBe('closed');

    const reopened = await worker
      .post(`/personnes/${id}/rouvrir`)
      .type('form')
      .send({ _csrf: csrfOf(back.text), version: '2' });
    expect(reopened.status).toBe(303);
    const after = (await worker.get(`/api/persons/${id}`)).body;
    expect(after).toMatchObject({ status: 'identified', closedReason: null, closedAt: null });
    expect((await worker.get(`/personnes/${id}`)).text).toContain('La fiche est rouverte.');
  });

  it('when the file is closed from a page read before a colleague changed it, then 409 shows it as it is now with the chosen reason kept at the saved version', async () => {
    const id = await newPerson();
    const page = (await worker.get(`/personnes/${id}/modifier`)).text;
    const edited = await worker
      .patch(`/api/persons/${id}`)
      .send({ phone: '0612345678', version: 1 });
    expect(edited.status).toBe(200);
    const res = await worker
      .post(`/personnes/${id}/cloturer`)
      .type('form')
      .send({ _csrf: csrfOf(page), version: '1', closedReason: 'refused' });
    expect(res.status).toBe(409);
    const close = res.text.slice(res.text.indexOf('id="cloturer"'));
    expect(close).toContain('Quelqu’un a modifié cette fiche pendant que vous la clôturiez');
    expect(close).toContain('avec le motif que vous aviez choisi');
    expect(close).toMatch(/<option value="refused" selected/);
    expect(close).toMatch(/name="version" value="2"/);
    expect((await worker.get(`/api/persons/${id}`)).body.closedReason).toBeNull();

    // Closed by someone else meanwhile: the page says so, and offers to reopen.
    await worker.patch(`/api/persons/${id}`).send({ closedReason: 'moved', version: 2 });
    const closed = await worker
      .post(`/personnes/${id}/cloturer`)
      .type('form')
      .send({ _csrf: csrfOf(page), version: '2', closedReason: 'refused' });
    expect(closed.status).toBe(409);
    expect(closed.text).toContain('la fiche a été clôturée entre-temps, avec le motif ci-dessous');
    expect(closed.text).toContain('Rouvrir la fiche');
  });

  it('when a worker of another structure opens or posts the edit URL, then 404 and nothing changes', async () => {
    const id = await newPerson();
    const outsider = await loginAs(ctx.app, b.worker.email);
    const get = await outsider.get(`/personnes/${id}/modifier`);
    expect(get.status).toBe(404);
    expect(get.text).toContain('Page introuvable');
    expect(get.text).not.toContain('parvis');
    const home = await outsider.get('/');
    for (const [path, body] of [
      [`/personnes/${id}/modifier`, { alias: 'Piraté', source: 'outreach', version: '1' }],
      [`/personnes/${id}/cloturer`, { closedReason: 'moved', version: '1' }],
      [`/personnes/${id}/rouvrir`, { version: '1' }],
    ] as const) {
      const res = await outsider
        .post(path)
        .type('form')
        .send({ _csrf: csrfOf(home.text), ...body });
      expect(res.status).toBe(404);
    }
    expect((await outsider.get('/personnes/pas-un-id/modifier')).status).toBe(404);
    const saved = (await worker.get(`/api/persons/${id}`)).body;
    expect(saved).toMatchObject({
      alias: 'Homme ~50 ans, parvis',
      version: 1,
      status: 'identified',
    });
  });

  it('when the edit or close form is posted without its CSRF token, then 403 and nothing changes', async () => {
    const id = await newPerson();
    const edit = await worker
      .post(`/personnes/${id}/modifier`)
      .type('form')
      .send({ alias: 'Sans jeton', source: 'outreach', version: '1' });
    expect(edit.status).toBe(403);
    expect(edit.text).toContain('Formulaire expiré');
    const close = await worker
      .post(`/personnes/${id}/cloturer`)
      .type('form')
      .send({ closedReason: 'moved', version: '1' });
    expect(close.status).toBe(403);
    const saved = (await worker.get(`/api/persons/${id}`)).body;
    expect(saved).toMatchObject({
      alias: 'Homme ~50 ans, parvis',
      version: 1,
      status: 'identified',
    });
  });

  it('when the file was anonymised meanwhile, then the save is refused with a clear message', async () => {
    const id = await newPerson();
    const page = (await worker.get(`/personnes/${id}/modifier`)).text;
    await testKnex()('persons').where({ id }).update({ anonymised_at: new Date() });
    const res = await submitEdit(worker, id, page, { firstName: 'Jean' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/personnes/${id}`);
    const file = await worker.get(`/personnes/${id}`);
    expect(file.text).toContain(ANONYMISED_TEXT);
    expect((await worker.get(`/api/persons/${id}`)).body.firstName).toBeNull();
  });

  it('when an observer opens the edit page, then 403', async () => {
    const id = await newPerson();
    const observer = await loginAs(ctx.app, a.observer.email);
    expect((await observer.get(`/personnes/${id}/modifier`)).status).toBe(403);
  });

  it('when the quick intake picks a district, then the person is in it, and the list filters by district', async () => {
    const form = await worker.get('/personnes/nouvelle');
    expect(form.text).toContain(`<option value="${north.id}">Belle-Beille (QPV)</option>`);
    expect(form.text).not.toContain('Quartier voisin');
    const created = await worker
      .post('/personnes/nouvelle')
      .type('form')
      .send({
        _csrf: csrfOf(form.text),
        alias: 'Femme du quartier sud',
        source: 'outreach',
        districtId: south.id,
      });
    expect(created.status).toBe(303);
    const id = created.headers.location.split('/')[2];
    expect((await worker.get(`/api/persons/${id}`)).body.districtId).toBe(south.id);

    const bad = await worker
      .post('/personnes/nouvelle')
      .type('form')
      .send({
        _csrf: csrfOf(form.text),
        alias: 'Quartier étranger',
        source: 'outreach',
        districtId: otherDistrict.id,
      });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Ce quartier ne fait pas partie de votre structure');
    expect(bad.text).toContain('Quartier étranger');

    await newPerson({ alias: 'Personne du nord', districtId: north.id });
    // The list's filters go by POST and stay in the session (no search in the address).
    const filter = async (quartier: string) =>
      worker
        .post('/personnes')
        .type('form')
        .send({ _csrf: csrfOf((await worker.get('/personnes')).text), quartier });
    expect((await filter(south.id)).status).toBe(303);
    const list = await worker.get('/personnes');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Femme du quartier sud');
    expect(list.text).not.toContain('Personne du nord');
    expect(list.text).toContain(`<option value="${south.id}" selected>Centre-ville</option>`);
    const wrong = await filter('nord');
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('id="quartier-error"');
    expect((await filter('')).status).toBe(303);
    expect((await worker.get('/personnes')).text).toContain('Personne du nord');
  });

  describe('GET /api/districts', () => {
    it("when a worker, a manager or an admin asks, then only their structure's districts come back, QPV flag included", async () => {
      for (const agent of [
        worker,
        await loginAs(ctx.app, a.manager.email),
        await loginAs(ctx.app, a.admin.email),
      ]) {
        const res = await agent.get('/api/districts');
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(2);
        expect(res.body.items).toEqual([
          {
            id: north.id,
            name: 'Belle-Beille',
            code: null,
            qpv: true,
            archivedAt: null,
            version: 1,
          },
          {
            id: south.id,
            name: 'Centre-ville',
            code: null,
            qpv: false,
            archivedAt: null,
            version: 1,
          },
        ]);
      }
      const other = await (await loginAs(ctx.app, b.worker.email)).get('/api/districts');
      expect(other.body.items.map((d: { id: string }) => d.id)).toEqual([otherDistrict.id]);
    });

    it.each(['partner', 'observer'] as const)('when a %s asks, then 403', async (role) => {
      const partner = role === 'partner' ? await createPartner() : undefined;
      const user = await createUser(a.structure.id, role, { partnerId: partner?.id });
      const res = await (await loginAs(ctx.app, user.email)).get('/api/districts');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(JSON.stringify(res.body)).not.toContain('Belle-Beille');
    });

    it('when nobody is signed in or a query is added, then 401 and 400', async () => {
      expect((await request(ctx.app).get('/api/districts')).status).toBe(401);
      expect((await worker.get('/api/districts?structure=x')).status).toBe(400);
    });

    it('is documented in the OpenAPI document', async () => {
      const doc = await request(ctx.app).get('/api/docs');
      expect(doc.body.paths['/api/districts']?.get).toBeDefined();
    });
  });
});
