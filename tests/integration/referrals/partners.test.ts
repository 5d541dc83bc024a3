import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { csrfOf } from '../../e2e/html';
import { fixedClock } from '../../../server/lib/clock';
import {
  createFoodBank,
  createPerson,
  giveConsent,
  refer,
  referralWorld,
  type Agent,
} from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

const garden = {
  name: 'Jardin d’insertion des Rives',
  email: 'contact@jardin.test',
  phone: '02 41 00 00 00',
  area: 'Angers et agglomération',
  howToReach: 'Permanence le mardi matin',
  services: [
    {
      name: 'Chantier d’insertion maraîchage',
      themes: ['remobilisation', 'trouver-un-emploi'],
      audience: ['beneficiaires-rsa'],
      responseDelayDays: 10,
    },
    { name: 'Paniers solidaires', themes: ['equipement-et-alimentation--alimentation'] },
  ],
};

describe('partner directory', () => {
  let ctx: TestContext;
  let w: World;
  const clock = fixedClock('2026-11-24T10:00:00+01:00');

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    w = await referralWorld(ctx.app);
  });
  afterAll(async () => ctx.close());

  it('when an admin creates a partner with its services, then 201 with the data·inclusion description', async () => {
    const res = await w.agents.admin.post('/api/partners').send(garden);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: garden.name, stale: false, area: garden.area });
    expect(res.body.services).toHaveLength(2);
    expect(res.body.services[0]).toMatchObject({
      name: 'Chantier d’insertion maraîchage',
      themes: ['remobilisation', 'trouver-un-emploi'],
      responseDelayDays: 10,
      stale: false,
    });
    // No delay given: the service sets none, and the referring structure's applies.
    expect(res.body.services[1].responseDelayDays).toBeNull();
  });

  it('when a worker or a partner user creates a partner, then 403', async () => {
    expect((await w.agents.worker.post('/api/partners').send(garden)).status).toBe(403);
    expect((await w.agents.partner.post('/api/partners').send(garden)).status).toBe(403);
  });

  it('when a theme is not of the data·inclusion vocabulary, then 400 naming it', async () => {
    const res = await w.agents.admin
      .post('/api/partners')
      .send({ ...garden, name: 'X', services: [{ name: 'S', themes: ['cuisine'] }] });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('services.0.themes.0');
  });

  it('when a worker looks for a theme, then partners with a matching service come back', async () => {
    const res = await w.agents.worker.get('/api/partners?theme=equipement-et-alimentation');
    expect(res.status).toBe(200);
    const names = res.body.items.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['Banque alimentaire', garden.name]));
    expect(names).not.toContain('Jardin de Cocagne');
  });

  // The clock says Tuesday 24 November 2026, 09:00 UTC: 6 months earlier is 24 May, 09:00 UTC.
  describe.each([
    ['6 months minus 1 day', '2026-05-25T09:00:00Z', false],
    ['6 months plus 1 day', '2026-05-23T09:00:00Z', true],
  ])('when a partner was last reviewed %s ago', (_age, reviewedAt, stale) => {
    let bank: Awaited<ReturnType<typeof createFoodBank>>;
    let personId: string;
    beforeAll(async () => {
      bank = await createFoodBank(`Épicerie solidaire ${reviewedAt}`);
      personId = (await createPerson(w.agents.worker)).id;
      await giveConsent(w.agents.worker, personId, bank.partner.id);
      await testKnex()('partners')
        .where({ id: bank.partner.id })
        .update({ last_reviewed_at: reviewedAt });
      await testKnex()('partner_services')
        .where({ partner_id: bank.partner.id })
        .update({ last_reviewed_at: reviewedAt });
    });

    it(`then it is ${stale ? '' : 'not '}flagged stale, with its service`, async () => {
      const all = await w.agents.worker.get('/api/partners');
      const found = all.body.items.find((p: { id: string }) => p.id === bank.partner.id);
      expect(found.stale).toBe(stale);
      expect(found.services[0].stale).toBe(stale);
    });

    it(`then it is ${stale ? 'not ' : ''}offered for new referrals`, async () => {
      const offered = await w.agents.worker.get('/api/partners?offerable=true');
      const ids = offered.body.items.map((p: { id: string }) => p.id);
      if (stale) expect(ids).not.toContain(bank.partner.id);
      else expect(ids).toContain(bank.partner.id);
    });

    it(`then a referral to it is ${stale ? 'refused (422 partner_stale)' : 'accepted (201)'}, and to its service ${stale ? 'too' : 'also'}`, async () => {
      const res = await refer(w.agents.worker, personId, bank.partner.id);
      expect(res.status).toBe(stale ? 422 : 201);
      if (stale) expect(res.body.error.code).toBe('partner_stale');
      // The partner freshly reviewed, its service alone keeps the old date.
      await testKnex()('partners')
        .where({ id: bank.partner.id })
        .update({ last_reviewed_at: '2026-11-20T09:00:00Z' });
      const toService = await refer(w.agents.worker, personId, bank.partner.id, {
        serviceId: bank.service.id,
      });
      expect(toService.status).toBe(stale ? 422 : 201);
      if (stale) expect(toService.body.error.code).toBe('service_stale');
    });
  });

  it('when a stale partner is reviewed by an admin, then it is offered again', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    await testKnex()('partners')
      .where({ id: w.food.partner.id })
      .update({ last_reviewed_at: '2026-05-01T00:00:00Z' });
    await testKnex()('partner_services')
      .where({ partner_id: w.food.partner.id })
      .update({ last_reviewed_at: '2026-05-01T00:00:00Z' });
    expect((await refer(w.agents.worker, person.id, w.food.partner.id)).status).toBe(422);

    const reviewed = await w.agents.admin.post(`/api/partners/${w.food.partner.id}/review`);
    expect(reviewed.status).toBe(200);
    expect(reviewed.body.stale).toBe(false);
    expect(reviewed.body.services.every((x: { stale: boolean }) => !x.stale)).toBe(true);
    const audit = await testKnex()('audit_events').where({
      action: 'partner.review',
      subject_id: w.food.partner.id,
    });
    expect(audit).toHaveLength(1);
    expect((await refer(w.agents.worker, person.id, w.food.partner.id)).status).toBe(201);
  });

  it('when only the service is stale, then referring to that service is refused', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    await testKnex()('partner_services')
      .where({ id: w.food.service.id })
      .update({ last_reviewed_at: '2026-01-01T00:00:00Z' });
    const res = await refer(w.agents.worker, person.id, w.food.partner.id, {
      serviceId: w.food.service.id,
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('service_stale');
  });

  it('when the service belongs to another partner, then 400 on serviceId', async () => {
    const person = await createPerson(w.agents.worker);
    await giveConsent(w.agents.worker, person.id, w.other.id);
    const res = await refer(w.agents.worker, person.id, w.other.id, {
      serviceId: w.food.service.id,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('serviceId');
  });

  it('when an observer reads the directory, then 403', async () => {
    expect((await w.agents.observer.get('/api/partners')).status).toBe(403);
  });

  describe('editing the directory through the API (the service the admin pages use)', () => {
    const UNKNOWN = '00000000-0000-4000-8000-000000000000';
    const colis = { name: 'Colis d’urgence', themes: ['equipement-et-alimentation--alimentation'] };
    const auditOf = (action: string, partnerId: string) =>
      testKnex()('audit_events').where({ action, subject_id: partnerId });
    const namesOf = (partnerId: string) =>
      testKnex()('partner_services').where({ partner_id: partnerId }).orderBy('name').pluck('name');

    it('when an admin replaces a partner’s description, then 200 with the whole partner, an omitted field cleared, reviewed and audited', async () => {
      const bank = await createFoodBank('Épicerie du quai');
      await testKnex()('partners')
        .where({ id: bank.partner.id })
        .update({ phone: '02 41 00 00 00', last_reviewed_at: '2026-01-01T00:00:00Z' });
      const res = await w.agents.admin.put(`/api/partners/${bank.partner.id}`).send({
        name: 'Épicerie solidaire du quai',
        email: 'accueil@quai.test',
        area: 'Angers centre',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: bank.partner.id,
        name: 'Épicerie solidaire du quai',
        // The new address waits for its confirmation (partner-email-change.test.ts).
        email: bank.partner.email,
        pendingEmail: 'accueil@quai.test',
        area: 'Angers centre',
        phone: null,
        stale: false,
      });
      expect(res.body.services.map((x: { id: string }) => x.id)).toEqual([bank.service.id]);
      expect(await auditOf('partner.update', bank.partner.id)).toHaveLength(1);
      const read = await w.agents.worker.get(`/api/partners/${bank.partner.id}`);
      expect(read.body).toMatchObject({ name: 'Épicerie solidaire du quai', phone: null });
    });

    it('when an admin adds a service, then 201 with the partner and its new service; editing it answers 200 with its new description', async () => {
      const bank = await createFoodBank('Épicerie des Justices');
      const added = await w.agents.admin.post(`/api/partners/${bank.partner.id}/services`).send({
        name: 'Épicerie solidaire',
        themes: ['equipement-et-alimentation', 'gestion-financiere'],
        audience: ['familles-enfants'],
        howToReach: 'Sur orientation',
        responseDelayDays: 8,
      });
      expect(added.status).toBe(201);
      expect(added.body.id).toBe(bank.partner.id);
      const service = added.body.services.find(
        (x: { name: string }) => x.name === 'Épicerie solidaire',
      );
      expect(service).toMatchObject({
        partnerId: bank.partner.id,
        themes: ['equipement-et-alimentation', 'gestion-financiere'],
        audience: ['familles-enfants'],
        howToReach: 'Sur orientation',
        responseDelayDays: 8,
        stale: false,
      });
      expect(await auditOf('partner.service.create', bank.partner.id)).toHaveLength(1);

      const edited = await w.agents.admin
        .put(`/api/partners/${bank.partner.id}/services/${service.id}`)
        .send({ name: 'Épicerie solidaire du quartier', themes: ['gestion-financiere'] });
      expect(edited.status).toBe(200);
      expect(edited.body.services).toContainEqual(
        expect.objectContaining({
          id: service.id,
          name: 'Épicerie solidaire du quartier',
          themes: ['gestion-financiere'],
          // Whole descriptions: what the new one leaves out is cleared.
          audience: [],
          howToReach: null,
          responseDelayDays: null,
        }),
      );
      expect(await auditOf('partner.service.update', bank.partner.id)).toHaveLength(1);
    });

    it('when a service is given another service’s name (case and spaces aside), then 409 and nothing is saved', async () => {
      const bank = await createFoodBank('Épicerie Saint-Serge');
      const second = await w.agents.admin
        .post(`/api/partners/${bank.partner.id}/services`)
        .send(colis);
      expect(second.status).toBe(201);
      const dup = await w.agents.admin
        .post(`/api/partners/${bank.partner.id}/services`)
        .send({ ...colis, name: '  colis ALIMENTAIRES ' });
      expect(dup.status).toBe(409);
      expect(dup.body.error.code).toBe('conflict');
      const rename = await w.agents.admin
        .put(`/api/partners/${bank.partner.id}/services/${bank.service.id}`)
        .send(colis);
      expect(rename.status).toBe(409);
      expect(await namesOf(bank.partner.id)).toEqual(['Colis alimentaires', 'Colis d’urgence']);
      expect(await auditOf('partner.service.update', bank.partner.id)).toHaveLength(0);
    });

    it.each([
      ['PUT /api/partners/:id', 'a wrong email', 'email', { name: 'X', email: 'pas-une-adresse' }],
      [
        'PUT /api/partners/:id',
        'its services (edited one by one)',
        'services',
        { name: 'X', email: 'x@x.test', services: [] },
      ],
      [
        'POST /api/partners/:id/services',
        'a theme outside data·inclusion',
        'themes.0',
        { name: 'S', themes: ['cuisine'] },
      ],
      [
        'POST /api/partners/:id/services',
        'a blank name',
        'name',
        { name: '  ', themes: ['famille'] },
      ],
      [
        'PUT /api/partners/:id/services/:serviceId',
        'a delay of 0 days',
        'responseDelayDays',
        { ...colis, responseDelayDays: 0 },
      ],
    ])(
      'when %s gets %s, then 400 naming %s and nothing changes',
      async (route, what, field, body) => {
        const bank = await createFoodBank(`Épicerie ${route} ${what}`);
        const path = route
          .replace(/^\w+ \/api/, '/api')
          .replace(':serviceId', bank.service.id)
          .replace(':id', bank.partner.id);
        const res = await (
          route.startsWith('PUT') ? w.agents.admin.put(path) : w.agents.admin.post(path)
        ).send(body);
        expect(res.status).toBe(400);
        expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
        const row = await testKnex()('partners').where({ id: bank.partner.id }).first('email');
        expect(row.email).toBe(bank.partner.email);
        expect(await namesOf(bank.partner.id)).toEqual(['Colis alimentaires']);
      },
    );

    it('when the partner or the service is unknown, or the service is another partner’s, then 404', async () => {
      const bank = await createFoodBank('Épicerie Monplaisir');
      const description = { name: 'Épicerie', email: 'e@x.test' };
      const unknownPartner = [
        await w.agents.admin.put(`/api/partners/${UNKNOWN}`).send(description),
        await w.agents.admin.post(`/api/partners/${UNKNOWN}/services`).send(colis),
        await w.agents.admin
          .put(`/api/partners/${UNKNOWN}/services/${bank.service.id}`)
          .send(colis),
      ];
      expect(unknownPartner.map((r) => [r.status, r.body.error.message])).toEqual([
        [404, 'Partner not found'],
        [404, 'Partner not found'],
        [404, 'Partner not found'],
      ]);
      const unknownService = await w.agents.admin
        .put(`/api/partners/${bank.partner.id}/services/${UNKNOWN}`)
        .send(colis);
      // Another partner's service under this partner, named like this partner's own service:
      // not found (before the name check, which would say 409), and left alone.
      const foreignService = await w.agents.admin
        .put(`/api/partners/${bank.partner.id}/services/${w.food.service.id}`)
        .send({ ...colis, name: 'Colis alimentaires' });
      expect([unknownService.status, foreignService.status]).toEqual([404, 404]);
      expect(foreignService.body.error.message).toBe('Service not found');
      expect(await namesOf(w.food.partner.id)).toEqual(['Colis alimentaires']);
    });

    it('when a worker, a partner user, an observer or a manager edits the directory, then 403; signed out, 401; nothing changes', async () => {
      const bank = await createFoodBank('Épicerie Belle-Beille');
      const calls = [
        (a: Agent) =>
          a.put(`/api/partners/${bank.partner.id}`).send({ name: 'Pris', email: 'p@x.test' }),
        (a: Agent) => a.post(`/api/partners/${bank.partner.id}/services`).send(colis),
        (a: Agent) =>
          a.put(`/api/partners/${bank.partner.id}/services/${bank.service.id}`).send(colis),
      ];
      for (const call of calls) {
        for (const who of ['worker', 'partner', 'observer', 'manager'] as const) {
          const res = await call(w.agents[who]);
          expect([who, res.status, res.body.error.code]).toEqual([who, 403, 'forbidden']);
        }
        const anonymous = await call(request.agent(ctx.app));
        expect(anonymous.status).toBe(401);
      }
      const row = await testKnex()('partners').where({ id: bank.partner.id }).first('name');
      expect(row.name).toBe('Épicerie Belle-Beille');
      expect(await namesOf(bank.partner.id)).toEqual(['Colis alimentaires']);
    });
  });

  /**
   * Partners are one directory for the deployment, each owned by the structure that added it:
   * only that structure's admins change it (its email receives the signed links of every
   * structure's referrals). Another structure's admin is answered 404, as for an unknown id.
   */
  describe('the owning structure', () => {
    const colis = { name: 'Colis d’urgence', themes: ['equipement-et-alimentation--alimentation'] };
    let foreign: Awaited<ReturnType<typeof createTeam>>;
    let foreignAdmin: Agent;
    beforeAll(async () => {
      foreign = await createTeam();
      foreignAdmin = await loginAs(ctx.app, foreign.admin.email);
    });

    /** Everything an edit could change, and every audit event about the partner. */
    const snapshot = async (partnerId: string) => ({
      partner: await testKnex()('partners').where({ id: partnerId }).first(),
      services: await testKnex()('partner_services').where({ partner_id: partnerId }).orderBy('id'),
      audit: await testKnex()('audit_events').where({ subject_id: partnerId }).orderBy('id'),
    });

    it('when another structure’s admin edits, adds or edits a service of, or reviews a partner, then 404 as for an unknown id, and nothing changes', async () => {
      const bank = await createFoodBank('Banque alimentaire du Lac');
      await testKnex()('partners')
        .where({ id: bank.partner.id })
        .update({ last_reviewed_at: '2026-05-01T00:00:00Z' });
      const before = await snapshot(bank.partner.id);
      const calls = [
        foreignAdmin
          .put(`/api/partners/${bank.partner.id}`)
          .send({ name: 'Détournée', email: 'admin-b@ailleurs.test' }),
        foreignAdmin.post(`/api/partners/${bank.partner.id}/services`).send(colis),
        foreignAdmin
          .put(`/api/partners/${bank.partner.id}/services/${bank.service.id}`)
          .send(colis),
        foreignAdmin.post(`/api/partners/${bank.partner.id}/review`),
      ];
      for (const res of await Promise.all(calls)) {
        expect([res.status, res.body.error]).toEqual([
          404,
          { code: 'not_found', message: 'Partner not found' },
        ]);
      }
      expect(await snapshot(bank.partner.id)).toEqual(before);
      // Reading the directory stays global: the other structure's teams refer to it too.
      const read = await foreignAdmin.get(`/api/partners/${bank.partner.id}`);
      expect([read.status, read.body.email]).toEqual([200, bank.partner.email]);
      const listed = await w.agents.worker.get('/api/partners');
      expect(listed.body.items.map((p: { id: string }) => p.id)).toContain(bank.partner.id);

      // Its own structure's admin still can.
      const own = [
        await w.agents.admin
          .put(`/api/partners/${bank.partner.id}`)
          .send({ name: 'Banque alimentaire du Lac', email: 'accueil@lac.test' }),
        await w.agents.admin.post(`/api/partners/${bank.partner.id}/services`).send(colis),
        await w.agents.admin
          .put(`/api/partners/${bank.partner.id}/services/${bank.service.id}`)
          .send({ ...colis, name: 'Colis alimentaires' }),
        await w.agents.admin.post(`/api/partners/${bank.partner.id}/review`),
      ];
      expect(own.map((r) => r.status)).toEqual([200, 201, 200, 200]);
      // The new address waits for its confirmation (partner-email-change.test.ts).
      expect(own[0].body).toMatchObject({
        email: bank.partner.email,
        pendingEmail: 'accueil@lac.test',
      });
    });

    it('when an admin adds a partner, then their structure owns it: they may edit it, the other structure’s admin may not', async () => {
      const res = await foreignAdmin
        .post('/api/partners')
        .send({ name: 'Épicerie de Trélazé', email: 'epicerie@trelaze.test', services: [] });
      expect(res.status).toBe(201);
      const row = await testKnex()('partners').where({ id: res.body.id }).first('structure_id');
      expect(row.structure_id).toBe(foreign.structure.id);
      expect(res.body).not.toHaveProperty('structureId');
      const [event] = await testKnex()('audit_events').where({
        action: 'partner.create',
        subject_id: res.body.id,
      });
      expect(event.structure_id).toBe(foreign.structure.id);
      const edit = { name: 'Épicerie de Trélazé', email: 'autre@trelaze.test' };
      expect((await w.agents.admin.put(`/api/partners/${res.body.id}`).send(edit)).status).toBe(
        404,
      );
      expect((await foreignAdmin.put(`/api/partners/${res.body.id}`).send(edit)).status).toBe(200);
    });

    it('when a partner’s new email is asked for, then only the owner’s audit trail has it until it is confirmed (partner-email-change.test.ts), without the address', async () => {
      const bank = await createFoodBank('Banque alimentaire des Ponts');
      const referring = await createTeam();
      const worker = await loginAs(ctx.app, referring.worker.email);
      const person = await createPerson(worker);
      await giveConsent(worker, person.id, bank.partner.id);
      expect((await refer(worker, person.id, bank.partner.id)).status).toBe(201);
      const underStructure = (structureId: string) =>
        testKnex()('audit_events')
          .where({
            structure_id: structureId,
            subject_id: bank.partner.id,
          })
          // In the order written (the clock is fixed: every event has the same time).
          .orderBy('id');

      const sameEmail = await w.agents.admin
        .put(`/api/partners/${bank.partner.id}`)
        .send({ name: 'Banque alimentaire des Ponts-de-Cé', email: bank.partner.email });
      expect(sameEmail.status).toBe(200);
      const moved = await w.agents.admin
        .put(`/api/partners/${bank.partner.id}`)
        .send({ name: 'Banque alimentaire des Ponts-de-Cé', email: 'nouvelle@ponts.test' });
      expect(moved.status).toBe(200);
      const own = await underStructure(w.team.structure.id);
      expect(own.map((e) => [e.action, e.details])).toEqual([
        ['partner.update', null],
        ['partner.update', { emailChangeRequested: true }],
      ]);
      expect(JSON.stringify(own)).not.toContain('nouvelle@ponts.test');
      expect(await underStructure(referring.structure.id)).toHaveLength(0);
    });

    describe('the admin pages', () => {
      /** A form post with the CSRF token of one of the admin's own pages. */
      async function post(agent: Agent, path: string, form: Record<string, string | string[]>) {
        const page = await agent.get('/admin/partenaires');
        expect(page.status).toBe(200);
        return agent
          .post(path)
          .type('form')
          .send({ _csrf: csrfOf(page.text), ...form });
      }

      it('when another structure’s admin opens or posts the edit pages of a partner, then 404 and nothing changes', async () => {
        const bank = await createFoodBank('Banque alimentaire de Monplaisir');
        const base = `/admin/partenaires/${bank.partner.id}`;
        const before = await snapshot(bank.partner.id);
        for (const path of [
          base,
          `${base}/services/nouveau`,
          `${base}/services/${bank.service.id}`,
        ])
          expect([path, (await foreignAdmin.get(path)).status]).toEqual([path, 404]);
        const service = { name: 'Colis', themes: ['famille'], responseDelayDays: '3' };
        const posts: [string, Record<string, string | string[]>][] = [
          [base, { name: 'Détournée', email: 'admin-b@ailleurs.test' }],
          // A refused form would show the partner's page back: not to them.
          [base, { name: 'Détournée', email: 'pas-un-courriel' }],
          [`${base}/revue`, {}],
          [`${base}/services`, service],
          [`${base}/services`, { name: '' }],
          [`${base}/services/${bank.service.id}`, service],
        ];
        for (const [path, form] of posts) {
          const res = await post(foreignAdmin, path, form);
          expect([path, res.status]).toEqual([path, 404]);
          expect(res.text).not.toContain(bank.partner.email);
        }
        expect(await snapshot(bank.partner.id)).toEqual(before);

        expect((await w.agents.admin.get(base)).status).toBe(200);
        const saved = await post(w.agents.admin, base, {
          name: 'Banque alimentaire de Monplaisir',
          email: 'accueil@monplaisir.test',
        });
        expect(saved.status).toBe(303);
      });

      it('when an admin opens the directory, then their structure’s partners are editable and the others are listed read only', async () => {
        const bank = await createFoodBank('Banque alimentaire de la Roseraie');
        const theirs = await foreignAdmin
          .post('/api/partners')
          .send({ name: 'Jardin de Trélazé', email: 'jardin@trelaze.test', services: [] });
        expect(theirs.status).toBe(201);

        const mine = (await w.agents.admin.get('/admin/partenaires')).text;
        expect(mine).toContain(`href="/admin/partenaires/${bank.partner.id}"`);
        expect(mine).toContain(`action="/admin/partenaires/${bank.partner.id}/revue"`);
        expect(mine).toContain('Jardin de Trélazé');
        expect(mine).not.toContain(`/admin/partenaires/${theirs.body.id}`);
        const own = mine.slice(0, mine.indexOf('id="autres-partenaires"'));
        expect(own).toContain('Banque alimentaire de la Roseraie');
        expect(own).not.toContain('Jardin de Trélazé');

        const other = (await foreignAdmin.get('/admin/partenaires')).text;
        expect(other).toContain(`href="/admin/partenaires/${theirs.body.id}"`);
        expect(other).toContain('Banque alimentaire de la Roseraie');
        expect(other).not.toContain(`/admin/partenaires/${bank.partner.id}`);
      });
    });
  });

  it('when the audit event of a review cannot be written, then the review is not kept either', async () => {
    const bank = await createFoodBank('Épicerie du marché');
    for (const [table, column] of [
      ['partners', 'id'],
      ['partner_services', 'partner_id'],
    ])
      await testKnex()(table)
        .where({ [column]: bank.partner.id })
        .update({ last_reviewed_at: '2026-05-01T00:00:00Z' });
    // A trigger stands in for an audit write failing (disk full, a dropped connection).
    await testKnex().raw(`
      CREATE FUNCTION refuse_review_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.action = 'partner.review' THEN RAISE EXCEPTION 'audit unavailable'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_review_audit BEFORE INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION refuse_review_audit();`);
    try {
      const res = await w.agents.admin.post(`/api/partners/${bank.partner.id}/review`);
      expect(res.status).toBe(500);
    } finally {
      await testKnex().raw(`
        DROP TRIGGER refuse_review_audit ON audit_events;
        DROP FUNCTION refuse_review_audit();`);
    }
    const rows = [
      ...(await testKnex()('partners').where({ id: bank.partner.id })),
      ...(await testKnex()('partner_services').where({ partner_id: bank.partner.id })),
    ];
    expect(rows.map((r) => new Date(r.last_reviewed_at).toISOString())).toEqual([
      '2026-05-01T00:00:00.000Z',
      '2026-05-01T00:00:00.000Z',
    ]);
  });
});
