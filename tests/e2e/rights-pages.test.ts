import { fixedClock } from '../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam } from '../setup/factories';
import { csrfOf, inputValue, versionOf } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** The rights pages over HTTP: the person file's rights panel, the persons filters, the admin catalogue. */
describe('rights pages over HTTP', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let admin: Agent;
  let observer: Agent;

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock('2026-12-03T10:00:00Z') });
    team = await createTeam();
    [worker, admin, observer] = await Promise.all([
      loginAs(ctx.app, team.worker.email),
      loginAs(ctx.app, team.admin.email),
      loginAs(ctx.app, team.observer.email),
    ]);
  });
  afterAll(async () => ctx.close());

  async function newPerson(alias = 'Monsieur du square') {
    const res = await worker.post('/api/persons').send({ alias, source: 'outreach' });
    return res.body.id as string;
  }

  async function post(agent: Agent, from: string, path: string, form: Record<string, string>) {
    const page = await agent.get(from);
    return agent
      .post(path)
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  describe('the rights panel of the person file', () => {
    it('when the file is shown, then it offers to track a right of the catalogue, without JavaScript', async () => {
      const id = await newPerson();
      const page = await worker.get(`/personnes/${id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Droits et aides (0)');
      expect(page.text).toContain(`action="/personnes/${id}/droits"`);
      expect(page.text).toContain('<option value="rsa"');
      expect(page.text).toContain('Non-connaissance');
    });

    it('when a right is tracked from the form, then it is saved, shown with its reason and on the timeline', async () => {
      const id = await newPerson();
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'rsa',
        version: '0',
        status: 'not_claimed',
        reason: 'non_knowledge',
        monthlyAmount: '',
        note: 'Pense ne pas y avoir droit',
      });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/personnes/${id}#droit-rsa`);
      const page = await worker.get(`/personnes/${id}`);
      expect(page.text).toContain('Droits et aides (1)');
      expect(page.text).toContain('id="droit-rsa"');
      expect(page.text).toContain('Droit « Revenu de solidarité active (RSA) » : non recouru.');
      expect(page.text).toContain('Droit · Revenu de solidarité active (RSA) · Non recouru');
      expect(page.text).toContain('Pense ne pas y avoir droit');
    });

    it('when a right is set obtained with a French amount, then the amount is kept in euros', async () => {
      const id = await newPerson();
      await worker.put(`/api/persons/${id}/rights/aspa`).send({ status: 'claim_in_progress' });
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'aspa',
        version: '1',
        status: 'obtained',
        reason: '',
        monthlyAmount: '287,50 €',
        note: '',
      });
      expect(res.status).toBe(303);
      const row = await testKnex()('person_rights').where({ person_id: id }).first();
      expect(row).toMatchObject({ status: 'obtained', monthly_amount_cents: 28750, version: 2 });
      const page = await worker.get(`/personnes/${id}`);
      expect(page.text).toMatch(/287,50\s€ par mois/);
      expect(inputValue(page.text, 'droit-aspa-monthlyAmount')).toBe('287,5');
    });

    it.each(['1.500', '1,500', '12,3456'])(
      'when the amount is typed %s (more than two digits after the separator), then 400 by the amount and the saved amount is unchanged',
      async (typed) => {
        const id = await newPerson();
        await worker
          .put(`/api/persons/${id}/rights/rsa`)
          .send({ status: 'obtained', monthlyAmount: 607.75 });
        const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
          code: 'rsa',
          version: '1',
          status: 'obtained',
          reason: '',
          monthlyAmount: typed,
          note: '',
        });
        expect(res.status).toBe(400);
        expect(res.text).toMatch(
          /<p id="droit-rsa-monthlyAmount-error" class="fr-error-text">Indiquez un montant en euros/,
        );
        expect(inputValue(res.text, 'droit-rsa-monthlyAmount')).toBe(typed);
        const row = await testKnex()('person_rights').where({ person_id: id }).first();
        expect(row).toMatchObject({ monthly_amount_cents: 60775, version: 1 });
      },
    );

    it('when the amount is typed with a thousands space and a comma, then it is kept in euros', async () => {
      const id = await newPerson();
      await worker.put(`/api/persons/${id}/rights/rsa`).send({ status: 'claim_in_progress' });
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'rsa',
        version: '1',
        status: 'obtained',
        reason: '',
        monthlyAmount: ' 1 500,5 € ',
        note: '',
      });
      expect(res.status).toBe(303);
      const row = await testKnex()('person_rights').where({ person_id: id }).first();
      expect(row).toMatchObject({ monthly_amount_cents: 150050, version: 2 });
    });

    it('when an obtained right is moved to another status from its form, then the amount it showed is dropped rather than refused', async () => {
      const id = await newPerson();
      await worker
        .put(`/api/persons/${id}/rights/aah`)
        .send({ status: 'obtained', monthlyAmount: 1016.05 });
      const page = await worker.get(`/personnes/${id}`);
      const item = page.text.slice(page.text.indexOf('id="droit-aah"'));
      const shownAmount = inputValue(item, 'droit-aah-monthlyAmount');
      expect(shownAmount).toBe('1016,05');
      // The form as the browser sends it: every field as shown, only the status changed.
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'aah',
        version: versionOf(item),
        status: 'refused',
        reason: '',
        monthlyAmount: shownAmount!,
        note: 'Révision : droit supprimé par la MDPH',
      });
      expect(res.status).toBe(303);
      const row = await testKnex()('person_rights').where({ person_id: id }).first();
      expect(row).toMatchObject({ status: 'refused', monthly_amount_cents: null, version: 2 });
      // The API keeps its strict rule.
      const api = await worker
        .put(`/api/persons/${id}/rights/aah`)
        .send({ status: 'abandoned', monthlyAmount: 10, version: 2 });
      expect(api.status).toBe(400);
    });

    it('when an amount is typed with a status other than obtained on the form adding a right, then the message says the amount is for an obtained right', async () => {
      const id = await newPerson();
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'apl',
        version: '0',
        status: 'claim_in_progress',
        reason: '',
        monthlyAmount: '250',
        note: '',
      });
      expect(res.status).toBe(400);
      expect(res.text).toMatch(
        /<p id="suivre-droit-monthlyAmount-error" class="fr-error-text">Le montant mensuel ne s’indique que pour un droit obtenu/,
      );
      expect(inputValue(res.text, 'suivre-droit-monthlyAmount')).toBe('250');
    });

    it('when not claimed is sent without a reason, then 400 keeps what was typed and the message sits by the reason', async () => {
      const id = await newPerson();
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'css',
        version: '0',
        status: 'not_claimed',
        reason: '',
        monthlyAmount: '12',
        note: 'Vu au square',
      });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Le formulaire contient 2 erreurs');
      expect(res.text).toMatch(
        /<p id="suivre-droit-reason-error" class="fr-error-text">Choisissez la raison du non-recours/,
      );
      expect(res.text).toMatch(/<p id="suivre-droit-monthlyAmount-error" class="fr-error-text">/);
      expect(res.text).toMatch(/<option value="css" selected/);
      expect(res.text).toContain('>Vu au square</textarea>');
      expect(res.text).toMatch(/<details open id="suivre-droit"/);
      expect(await testKnex()('person_rights').where({ person_id: id })).toHaveLength(0);
    });

    it('when the form names a right outside the catalogue or an archived one, then the message sits by the right', async () => {
      const id = await newPerson();
      const unknown = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'inconnu',
        version: '0',
        status: 'obtained',
      });
      expect(unknown.status).toBe(400);
      expect(unknown.text).toMatch(
        /<p id="suivre-droit-code-error" class="fr-error-text">Choisissez un droit dans la liste/,
      );
      await admin.post('/api/rights').send({ code: 'aide_ancienne', label: 'Ancienne aide' });
      await admin.patch('/api/rights/aide_ancienne').send({ archived: true, version: 1 });
      const archived = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'aide_ancienne',
        version: '0',
        status: 'obtained',
        note: 'Demande déposée en mairie',
      });
      expect(archived.status).toBe(422);
      expect(archived.text).toContain('Ce droit est archivé');
      expect(archived.text).toMatch(/<details open id="suivre-droit"/);
      expect(archived.text).toContain('>Demande déposée en mairie</textarea>');
      expect(await testKnex()('person_rights').where({ person_id: id })).toHaveLength(0);
    });

    it('when the aid a person tracks is archived, then its form stays with a note saying so, and a change from it is saved', async () => {
      await admin.post('/api/rights').send({ code: 'aide_chauffage', label: 'Aide au chauffage' });
      const id = await newPerson();
      await worker
        .put(`/api/persons/${id}/rights/aide_chauffage`)
        .send({ status: 'claim_in_progress' });
      await admin.patch('/api/rights/aide_chauffage').send({ archived: true, version: 1 });

      const page = await worker.get(`/personnes/${id}`);
      const item = page.text.slice(page.text.indexOf('id="droit-aide_chauffage"'));
      expect(item).toContain('(archivé)');
      expect(item).toContain('Cette aide est archivée');
      expect(item).toContain('id="droit-aide_chauffage-status"');
      // Not offered to start tracking again.
      expect(page.text).not.toContain('<option value="aide_chauffage"');

      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'aide_chauffage',
        version: versionOf(item),
        status: 'obtained',
        reason: '',
        monthlyAmount: '30',
        note: 'Accordée pour l’hiver',
      });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/personnes/${id}#droit-aide_chauffage`);
      const row = await testKnex()('person_rights').where({ person_id: id }).first();
      expect(row).toMatchObject({ status: 'obtained', monthly_amount_cents: 3000, version: 2 });
      expect((await worker.get(`/personnes/${id}`)).text).toContain(
        'Droit « Aide au chauffage » : obtenu.',
      );
    });

    it('when a tracked right is changed from a stale page, then 409 shows the newer change with the typed values kept and the saved version, and saving again applies them', async () => {
      const id = await newPerson();
      await worker
        .put(`/api/persons/${id}/rights/apl`)
        .send({ status: 'not_claimed', reason: 'non_request' });
      await worker.put(`/api/persons/${id}/rights/apl`).send({ status: 'claim_in_progress' });
      const typed = {
        code: 'apl',
        version: '1',
        status: 'refused',
        reason: '',
        monthlyAmount: '',
        note: 'Refus notifié par la CAF le 2 décembre, recours possible sous deux mois',
      };
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, typed);
      expect(res.status).toBe(409);
      const form = res.text.slice(res.text.indexOf('id="droit-apl"'));
      expect(form.includes('Ce droit a été modifié pendant que vous le changiez')).toBe(true);
      expect(form.includes(`>${typed.note}</textarea>`)).toBe(true);
      expect(/<option value="refused" selected/.test(form)).toBe(true);
      expect(/name="version" value="2"/.test(form)).toBe(true);
      const row = await testKnex()('person_rights').where({ person_id: id }).first();
      expect(row.status).toBe('claim_in_progress');

      const again = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        ...typed,
        version: '2',
      });
      expect(again.status).toBe(303);
      expect((await testKnex()('person_rights').where({ person_id: id }).first()).status).toBe(
        'refused',
      );
    });

    it.each([
      ['the form adding a right', '0'],
      ["a tracked right's form", '1'],
    ])(
      'when %s is sent twice from one page (a double tap), then the second answer is the success and one change is saved',
      async (_form, version) => {
        const id = await newPerson();
        if (version === '1')
          await worker.put(`/api/persons/${id}/rights/aah`).send({ status: 'claim_in_progress' });
        const page = await worker.get(`/personnes/${id}`);
        expect(page.text).toMatch(
          version === '1'
            ? /id="droit-aah">[\s\S]*?<form method="post" action="[^"]+" novalidate data-submit-once/
            : /id="suivre-droit">[\s\S]*?<form method="post" action="[^"]+" novalidate data-submit-once/,
        );
        const form = {
          _csrf: csrfOf(page.text),
          code: 'aah',
          version,
          status: 'obtained',
          reason: '',
          monthlyAmount: '1 016,05',
          note: 'Notification MDPH reçue',
        };
        const send = () => worker.post(`/personnes/${id}/droits`).type('form').send(form);
        const first = await send();
        expect(first.status).toBe(303);
        const second = await send();
        expect(second.status).toBe(303);
        expect(second.headers.location).toBe(`/personnes/${id}#droit-aah`);
        const shown = await worker.get(`/personnes/${id}`);
        expect(shown.text).toContain('Droit « Allocation aux adultes handicapés (AAH) » : obtenu.');
        expect(shown.text).not.toContain('Rien n’a été enregistré');
        const events = await testKnex()('person_right_events').where({ person_id: id });
        expect(events.filter((e) => e.status === 'obtained')).toHaveLength(1);
      },
    );

    it('when a stale form differs from what was saved meanwhile, then 409 still says nothing was saved', async () => {
      const id = await newPerson();
      await worker.put(`/api/persons/${id}/rights/aah`).send({ status: 'claim_in_progress' });
      await worker.put(`/api/persons/${id}/rights/aah`).send({ status: 'obtained', version: 1 });
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'aah',
        version: '1',
        status: 'obtained',
        reason: '',
        monthlyAmount: '900',
        note: '',
      });
      expect(res.status).toBe(409);
      expect(res.text).toContain('Rien n’a été enregistré');
    });

    it('when a right is started from a page read before a colleague started it, then 409 opens that right with the typed values', async () => {
      const id = await newPerson();
      await worker.put(`/api/persons/${id}/rights/css`).send({ status: 'claim_in_progress' });
      const res = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'css',
        version: '0',
        status: 'obtained',
        monthlyAmount: '',
        note: 'Attestation reçue',
      });
      expect(res.status).toBe(409);
      const form = res.text.slice(res.text.indexOf('id="droit-css"'));
      expect(form.includes('Ce droit a été modifié pendant que vous le changiez')).toBe(true);
      expect(form.includes('>Attestation reçue</textarea>')).toBe(true);
      expect(/<option value="obtained" selected/.test(form)).toBe(true);
      expect((await testKnex()('person_rights').where({ person_id: id }).first()).status).toBe(
        'claim_in_progress',
      );
    });
  });

  describe('ids of the rights panel', () => {
    it('when a file tracks a local aid coded nouveau, then every id of the page is unique, and a refused new right still opens the form adding one', async () => {
      expect(
        (await admin.post('/api/rights').send({ code: 'nouveau', label: 'Aide nouvelle' })).status,
      ).toBe(201);
      const id = await newPerson();
      await worker.put(`/api/persons/${id}/rights/nouveau`).send({ status: 'claim_in_progress' });
      const page = await worker.get(`/personnes/${id}`);
      expect(page.text).toContain('id="droit-nouveau"');
      const ids = [...page.text.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
      expect(ids.filter((x, i) => ids.indexOf(x) !== i)).toEqual([]);

      const refused = await post(worker, `/personnes/${id}`, `/personnes/${id}/droits`, {
        code: 'css',
        version: '0',
        status: 'not_claimed',
        reason: '',
      });
      expect(refused.status).toBe(400);
      expect(refused.text).toMatch(/<details open id="suivre-droit"/);
      expect(refused.text).toMatch(/<p id="suivre-droit-reason-error" class="fr-error-text">/);
      // The tracked aid's form stays folded, its fields its own.
      expect(refused.text).toMatch(/id="droit-nouveau">[\s\S]*?<details>/);
    });
  });

  describe('the persons list', () => {
    it('when filtered by right, right status and reason, then only matching persons are listed', async () => {
      const a = await newPerson('Filtre page A');
      const b = await newPerson('Filtre page B');
      await worker
        .put(`/api/persons/${a}/rights/cheque_energie`)
        .send({ status: 'not_claimed', reason: 'non_receipt' });
      await worker
        .put(`/api/persons/${b}/rights/cheque_energie`)
        .send({ status: 'not_claimed', reason: 'non_request' });
      const res = await post(worker, '/personnes', '/personnes', {
        q: 'Filtre page',
        statut: '',
        quartier: '',
        droit: 'cheque_energie',
        statutDroit: 'not_claimed',
        raison: 'non_receipt',
      });
      expect(res.status).toBe(303);
      const list = await worker.get('/personnes');
      expect(list.text).toContain('Filtre page A');
      expect(list.text).not.toContain('Filtre page B');
      expect(list.text).toMatch(/<option value="non_receipt" selected/);

      const bad = await post(worker, '/personnes', '/personnes', { statutDroit: 'eligible' });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('Choisissez un statut de droit dans la liste');
    });
  });

  describe('the admin catalogue page', () => {
    it('when an admin opens it, then every right is listed with its rename and archive forms', async () => {
      const page = await admin.get('/admin/droits');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<h1>Droits et aides</h1>');
      expect(page.text).toContain('Revenu de solidarité active (RSA)');
      expect(page.text).toContain('action="/admin/droits/rsa"');
      expect(page.text).toContain('action="/admin/droits/rsa/archive"');
    });

    it('when a worker or an observer asks for it, then 403', async () => {
      expect((await worker.get('/admin/droits')).status).toBe(403);
      expect((await observer.get('/admin/droits')).status).toBe(403);
    });

    it('when an admin adds, renames, archives and restores an aid, then the catalogue follows', async () => {
      const added = await post(admin, '/admin/droits', '/admin/droits', {
        code: 'aide_cantine',
        label: 'Aide à la cantine',
      });
      expect(added.status).toBe(303);
      const renamed = await post(admin, '/admin/droits', '/admin/droits/aide_cantine', {
        label: 'Aide à la restauration scolaire',
        version: '1',
      });
      expect(renamed.status).toBe(303);
      // A version that is not one: 400, the bad-request page (it was a 404), nothing archived.
      const odd = await post(admin, '/admin/droits', '/admin/droits/aide_cantine/archive', {
        version: 'abc',
        archived: 'true',
      });
      expect(odd.status).toBe(400);
      expect(odd.text).toContain('Demande incorrecte');
      expect(
        (
          await testKnex()('rights')
            .where({ structure_id: team.structure.id, code: 'aide_cantine' })
            .first()
        ).archived_at,
      ).toBeNull();
      const archived = await post(admin, '/admin/droits', '/admin/droits/aide_cantine/archive', {
        version: '2',
        archived: 'true',
      });
      expect(archived.status).toBe(303);
      let row = await testKnex()('rights')
        .where({ structure_id: team.structure.id, code: 'aide_cantine' })
        .first();
      expect(row).toMatchObject({ label: 'Aide à la restauration scolaire', version: 3 });
      expect(row.archived_at).not.toBeNull();
      const page = await admin.get('/admin/droits');
      expect(page.text).toMatch(/Archivé le/);
      await post(admin, '/admin/droits', '/admin/droits/aide_cantine/archive', {
        version: '3',
        archived: 'false',
      });
      row = await testKnex()('rights').where({ id: row.id }).first();
      expect(row.archived_at).toBeNull();
    });

    it('when the code is taken or malformed, then the form says so by the code field', async () => {
      const taken = await post(admin, '/admin/droits', '/admin/droits', {
        code: 'rsa',
        label: 'Doublon',
      });
      expect(taken.status).toBe(409);
      expect(taken.text).toContain('Un droit du catalogue porte déjà ce code.');
      const bad = await post(admin, '/admin/droits', '/admin/droits', {
        code: 'Aide cantine',
        label: 'X',
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toMatch(/<p id="nouveau-code-error" class="fr-error-text">Indiquez un code/);
      expect(inputValue(bad.text, 'nouveau-code')).toBe('Aide cantine');
    });

    it('when an aid is renamed from a page read before another admin renamed it, then 409 keeps the typed label at the saved version', async () => {
      await post(admin, '/admin/droits', '/admin/droits', {
        code: 'aide_vacances',
        label: 'Aide aux vacances',
      });
      await admin
        .patch('/api/rights/aide_vacances')
        .send({ label: 'Aide aux séjours', version: 1 });
      const res = await post(admin, '/admin/droits', '/admin/droits/aide_vacances', {
        label: 'Aide aux départs en vacances',
        version: '1',
      });
      expect(res.status).toBe(409);
      const item = res.text.slice(res.text.indexOf('id="droit-aide_vacances"'));
      expect(item.includes('Ce droit a été modifié pendant que vous le changiez')).toBe(true);
      expect(inputValue(item, 'droit-aide_vacances-label')).toBe('Aide aux départs en vacances');
      expect(/name="version" value="2"/.test(item)).toBe(true);
      const row = await testKnex()('rights')
        .where({ structure_id: team.structure.id, code: 'aide_vacances' })
        .first();
      expect(row.label).toBe('Aide aux séjours');
    });
  });

  describe('referrals', () => {
    it('when a referral names a right and is completed, then its page proposes to update that right', async () => {
      const id = await newPerson();
      const partner = await createPartner(testKnex(), 'Épicerie solidaire', team.structure.id);
      await worker.post(`/api/persons/${id}/consents`).send({
        purpose: 'referral',
        partnerId: partner.id,
        method: 'oral',
        givenAt: '2026-12-01T10:00:00Z',
      });
      const form = await worker.get(`/personnes/${id}/orientations`);
      expect(form.text).toContain('name="rightCode"');
      const sent = await worker
        .post(`/personnes/${id}/orientations`)
        .type('form')
        .send({
          _csrf: csrfOf(form.text),
          partnerId: partner.id,
          serviceId: '',
          rightCode: 'aide_alimentaire',
          reason: 'Colis alimentaire',
          sharedSummary: '',
        });
      expect(sent.status).toBe(303);
      const referral = await testKnex()('referrals').where({ person_id: id }).first();
      await testKnex()('referrals')
        .where({ id: referral.id })
        .update({ status: 'completed', closed_at: new Date() });
      const page = await worker.get(`/orientations/${referral.id}`);
      expect(page.text).toContain('Droit visé');
      // Not tracked yet: the link opens the form adding a right, the right chosen.
      const href = `/personnes/${id}?droit=aide_alimentaire#suivre-droit`;
      expect(page.text).toContain(`href="${href}"`);
      expect(page.text).toContain("Mettre à jour le droit « Aide alimentaire d'urgence (CCAS) »");
      const file = await worker.get(href.split('#')[0]);
      expect(file.status).toBe(200);
      expect(file.text).toMatch(/<details open id="suivre-droit"/);
      expect(file.text).toMatch(/<option value="aide_alimentaire" selected/);
    });

    /** A completed referral of a new person for `code`, made by the API. */
    async function completedReferral(code: string) {
      const id = await newPerson();
      const partner = await createPartner(testKnex(), 'Maison des solidarités', team.structure.id);
      await worker.post(`/api/persons/${id}/consents`).send({
        purpose: 'referral',
        partnerId: partner.id,
        method: 'oral',
        givenAt: '2026-12-01T10:00:00Z',
      });
      const sent = await worker
        .post(`/api/persons/${id}/referrals`)
        .send({ partnerId: partner.id, reason: 'Accompagnement', rightCode: code });
      expect(sent.status).toBe(201);
      await testKnex()('referrals')
        .where({ id: sent.body.id })
        .update({ status: 'completed', closed_at: new Date() });
      return { id, referralId: sent.body.id as string };
    }

    it("when the right a completed referral served is tracked, then its link opens that right's form on the file, and the file's timeline and referrals page link there too", async () => {
      const { id, referralId } = await completedReferral('apl');
      await worker.put(`/api/persons/${id}/rights/apl`).send({ status: 'claim_in_progress' });
      const href = `/personnes/${id}?droit=apl#droit-apl`;
      for (const from of [
        `/orientations/${referralId}`,
        `/personnes/${id}/orientations`,
        `/personnes/${id}`,
      ])
        expect((await worker.get(from)).text).toContain(`href="${href}"`);

      const file = await worker.get(`/personnes/${id}?droit=apl`);
      expect(file.status).toBe(200);
      const item = file.text.slice(file.text.indexOf('id="droit-apl"'));
      expect(item).toMatch(/^id="droit-apl">[\s\S]*?<details open>/);
      // Without the parameter, the form stays folded.
      const plain = await worker.get(`/personnes/${id}`);
      expect(plain.text.slice(plain.text.indexOf('id="droit-apl"'))).toMatch(
        /^id="droit-apl">[\s\S]*?<details>/,
      );
      // A malformed code is no page of this file.
      expect((await worker.get(`/personnes/${id}?droit=Pas%20un%20code`)).status).toBe(404);
    });

    it('when the right a completed referral served was archived and the file never tracked it, then no link asks to update it', async () => {
      await admin.post('/api/rights').send({ code: 'aide_retiree', label: 'Aide retirée' });
      const { id, referralId } = await completedReferral('aide_retiree');
      await admin.patch('/api/rights/aide_retiree').send({ archived: true, version: 1 });
      for (const from of [
        `/orientations/${referralId}`,
        `/personnes/${id}/orientations`,
        `/personnes/${id}`,
      ]) {
        const page = await worker.get(from);
        expect(page.status).toBe(200);
        expect(page.text).not.toContain('Mettre à jour le droit « Aide retirée »');
      }
      // Asked for anyway, the file opens no form for it.
      const file = await worker.get(`/personnes/${id}?droit=aide_retiree`);
      expect(file.status).toBe(200);
      expect(file.text).not.toMatch(/<details open/);
    });
  });
});
