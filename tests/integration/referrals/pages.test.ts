import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { csrfOf, formsCheckedByTheBrowser, inputValue, versionOf } from '../../e2e/html';
import {
  createFoodBank,
  createPerson,
  driveTo,
  giveConsent,
  refer,
  referralWorld,
  type Agent,
} from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

describe('referral pages', () => {
  let ctx: TestContext;
  let w: World;
  let personId: string;
  let referralId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    w = await referralWorld(ctx.app);
    personId = (await createPerson(w.agents.worker)).id;
    await giveConsent(w.agents.worker, personId, w.food.partner.id);
    referralId = (await refer(w.agents.worker, personId, w.food.partner.id)).body.id;
  });
  afterAll(async () => ctx.close());

  async function move(agent: Agent, to: string, extra: Record<string, string> = {}) {
    const page = await agent.get(`/orientations/${referralId}`);
    return agent
      .post(`/orientations/${referralId}/transition`)
      .type('form')
      .send({ _csrf: csrfOf(page.text), to, ...extra });
  }

  it('when a partner user opens its inbox, then its referral is listed; another partner sees none', async () => {
    const inbox = await w.agents.partner.get('/orientations');
    expect(inbox.status).toBe(200);
    expect(inbox.text).toContain('Demandes reçues');
    expect(inbox.text).toContain('Nadia Benali');
    const outsider = await w.agents.outsider.get('/orientations');
    expect(outsider.text).not.toContain('Nadia Benali');
    expect((await w.agents.outsider.get(`/orientations/${referralId}`)).status).toBe(404);
  });

  it('when the partner rejects from the page without a reason, then the page says why; accepting from the page works', async () => {
    const noReason = await move(w.agents.partner, 'rejected');
    expect(noReason.status).toBe(400);
    expect(noReason.text).toMatch(/<title>Erreur — Orientation — /);
    expect(noReason.text).toContain('Indiquez une raison');
    expect(noReason.text).toContain('id="move-rejected-reason-error"');
    const accepted = await move(w.agents.partner, 'accepted');
    expect(accepted.status).toBe(303);
    expect((await w.agents.worker.get(`/api/referrals/${referralId}`)).body.status).toBe(
      'accepted',
    );
  });

  it('when a transition names an unknown target, then 400 with the page and the referral unchanged', async () => {
    const res = await move(w.agents.partner, 'archived');
    expect(res.status).toBe(400);
    expect(res.text).toContain('Cette action n’existe pas');
    expect((await w.agents.worker.get(`/api/referrals/${referralId}`)).body.status).toBe(
      'accepted',
    );
  });

  it('when a form is posted without the CSRF token, then it is refused and no event is written', async () => {
    const events = () =>
      testKnex()('referral_events').where({ referral_id: referralId }).count({ n: '*' });
    const before = Number((await events())[0].n);
    const res = await w.agents.partner
      .post(`/orientations/${referralId}/transition`)
      .type('form')
      .send({ to: 'in_progress' });
    expect(res.status).toBe(403);
    expect(Number((await events())[0].n)).toBe(before);
    expect((await w.agents.worker.get(`/api/referrals/${referralId}`)).body.status).toBe(
      'accepted',
    );
  });

  it('when a worker opens the person referral page, then consents and referrals are there; a partner gets 403', async () => {
    const page = await w.agents.worker.get(`/personnes/${personId}/orientations`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<title>Orientations — /);
    expect(page.text).toContain('Orientations et consentements');
    expect(page.text).toContain('Banque alimentaire');
    expect((await w.agents.partner.get(`/personnes/${personId}/orientations`)).status).toBe(403);
  });

  it('when an admin opens the directory, then it is listed and a partner can be added; a worker gets 403', async () => {
    const page = await w.agents.admin.get('/admin/partenaires');
    expect(page.status).toBe(200);
    const res = await w.agents.admin
      .post('/admin/partenaires')
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        name: 'Secours populaire',
        email: 'contact@secours.test',
        serviceName: 'Vestiaire',
        themes: 'equipement-et-alimentation',
      });
    expect(res.status).toBe(303);
    expect((await w.agents.admin.get('/admin/partenaires')).text).toContain('Secours populaire');
    expect((await w.agents.worker.get('/admin/partenaires')).status).toBe(403);
  });

  async function postPersonForm(path: string, form: Record<string, string | string[]>) {
    const page = await w.agents.worker.get(`/personnes/${personId}/orientations`);
    return w.agents.worker
      .post(`/personnes/${personId}/${path}`)
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  it('when a consent is given at an impossible date, then 400 keeps what was typed, names the date field and records nothing', async () => {
    const res = await postPersonForm('consentements', {
      partnerId: w.other.id,
      method: 'written',
      givenAt: '2026-02-30T10:00',
      sharedFields: ['phone', 'address'],
    });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/<title>Erreur — Orientations — /);
    expect(res.text).toContain('id="consent-givenAt-error"');
    expect(res.text).toContain('Indiquez la date et l’heure de l’accord');
    expect(res.text).toContain('value="2026-02-30T10:00"');
    expect(res.text).toMatch(new RegExp(`value="${w.other.id}"[^>]*selected`));
    expect(res.text).toMatch(/value="written"[^>]*selected/);
    expect(res.text).toMatch(/id="consent-sharedFields-phone"[^>]*checked/);
    expect(res.text).toMatch(/id="consent-sharedFields-address"[^>]*checked/);
    expect(res.text).not.toMatch(/id="consent-sharedFields-email"[^>]*checked/);
    const recorded = await testKnex()('consents').where({
      person_id: personId,
      partner_id: w.other.id,
    });
    expect(recorded).toHaveLength(0);
  });

  it('when a referral reason is over 2 000 characters, then 400 keeps the text and sends nothing', async () => {
    const reason = 'r'.repeat(2001);
    const res = await postPersonForm('orientations', { partnerId: w.food.partner.id, reason });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/<title>Erreur — Orientations — /);
    expect(res.text).toContain('id="referral-reason-error"');
    expect(res.text).toContain(reason);
    expect(await testKnex()('referrals').where({ person_id: personId })).toHaveLength(1);
  });

  it('when a referral is refused for want of consent, then 422 re-renders with the reason kept and a French word about consent', async () => {
    const res = await postPersonForm('orientations', {
      partnerId: w.other.id,
      reason: 'Jardin partagé pour reprendre pied',
    });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/<title>Erreur — Orientations — /);
    expect(res.text).toContain('Jardin partagé pour reprendre pied');
    expect(res.text).toContain('id="referral-partnerId-error"');
    expect(res.text).toContain('n’a pas donné son accord pour être orientée vers ce partenaire');
    expect(res.text).not.toContain('consent_required');
    expect(
      await testKnex()('referrals').where({ person_id: personId, partner_id: w.other.id }),
    ).toHaveLength(0);
  });

  it('when the referral pages show forms with required fields, then each leaves the check to the server (novalidate), whose French summary a browser would otherwise never show', async () => {
    // The referral is accepted by now: the partner may hold or fail it, the worker cancel it,
    // each with a reason.
    const pages = [
      await w.agents.worker.get(`/personnes/${personId}/orientations`),
      await w.agents.partner.get(`/orientations/${referralId}`),
      await w.agents.worker.get(`/orientations/${referralId}`),
      await w.agents.partner.get('/orientations'),
    ];
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/\srequired[\s/>]/);
      expect(formsCheckedByTheBrowser(page.text)).toEqual([]);
    }
  });

  it('when an admin adds a partner without themes, then 400 names the themes field and keeps the typed name', async () => {
    const page = await w.agents.admin.get('/admin/partenaires');
    const res = await w.agents.admin
      .post('/admin/partenaires')
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        name: 'Restos du cœur',
        email: 'contact@restos.test',
        serviceName: 'Repas',
        themes: '',
      });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="partner-themes-error"');
    expect(res.text).toContain('value="Restos du cœur"');
    expect(res.text).not.toContain('services.0');
  });

  // ---- The admin directory after creation: the partner, its services, the review ----------

  async function adminPost(path: string, form: Record<string, string | string[]>, from = path) {
    const page = await w.agents.admin.get(from);
    expect(page.status).toBe(200);
    return w.agents.admin
      .post(path)
      .type('form')
      .send({ _csrf: csrfOf(page.text), ...form });
  }

  it('when an admin edits a partner, then its description is saved whole (an emptied field is cleared); others get 403, an unknown one 404', async () => {
    const { partner } = await createFoodBank('Épicerie sociale');
    await testKnex()('partners').where({ id: partner.id }).update({ phone: '02 41 00 00 00' });
    const path = `/admin/partenaires/${partner.id}`;
    const page = await w.agents.admin.get(path);
    expect(page.text).toContain('value="02 41 00 00 00"');
    const res = await adminPost(path, {
      name: 'Épicerie sociale du Lac',
      email: 'accueil@epicerie.test',
      phone: '',
      website: 'https://epicerie.test',
      area: 'Lac de Maine',
      howToReach: 'Mardi et jeudi',
      description: 'Produits à petits prix',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(path);
    const row = await testKnex()('partners').where({ id: partner.id }).first();
    expect(row).toMatchObject({
      name: 'Épicerie sociale du Lac',
      // The new address waits for its confirmation (partner-email-change.test.ts).
      email: partner.email,
      phone: null,
      website: 'https://epicerie.test',
      area: 'Lac de Maine',
      how_to_reach: 'Mardi et jeudi',
      description: 'Produits à petits prix',
    });
    expect((await w.agents.admin.get(path)).text).toContain('Partenaire enregistré.');
    expect((await w.agents.worker.get(path)).status).toBe(403);
    expect((await w.agents.partner.get(path)).status).toBe(403);
    expect(
      (await w.agents.admin.get('/admin/partenaires/00000000-0000-4000-8000-000000000000')).status,
    ).toBe(404);
  });

  it('when a partner is saved with a wrong email, then 400 by the field with what was typed, and nothing saved', async () => {
    const { partner } = await createFoodBank('Vestiaire solidaire');
    const path = `/admin/partenaires/${partner.id}`;
    const res = await adminPost(path, { name: 'Vestiaire renommé', email: 'pas-un-courriel' });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<p id="partner-email-error" class="fr-error-text">Indiquez une adresse électronique',
    );
    expect(res.text).toContain('value="Vestiaire renommé"');
    expect((await testKnex()('partners').where({ id: partner.id }).first()).name).toBe(
      'Vestiaire solidaire',
    );
  });

  it('when a partner is saved from a page read before another admin changed it, then 409 keeps what was typed beside what is saved now, at the saved version', async () => {
    const { partner } = await createFoodBank('Épicerie du Port');
    const path = `/admin/partenaires/${partner.id}`;
    const page = await w.agents.admin.get(path);
    const version = versionOf(page.text);
    const theirs = await w.agents.admin.put(`/api/partners/${partner.id}`).send({
      name: 'Épicerie du Port',
      email: partner.email,
      howToReach: 'Le mercredi',
      version: Number(version),
    });
    expect(theirs.status).toBe(200);
    expect(theirs.body.version).toBe(Number(version) + 1);
    const res = await adminPost(path, {
      version,
      name: 'Épicerie solidaire du Port',
      email: partner.email,
      howToReach: 'Le vendredi',
    });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Ce partenaire a été modifié pendant que vous le changiez');
    expect(res.text).toMatch(/<a href="#partner-howToReach">[^<]+<\/a> : « Le mercredi »/);
    expect(res.text).toContain('value="Épicerie solidaire du Port"');
    expect(res.text).toContain('value="Le vendredi"');
    expect(versionOf(res.text)).toBe(String(Number(version) + 1));
    expect((await testKnex()('partners').where({ id: partner.id }).first()).how_to_reach).toBe(
      'Le mercredi',
    );
    // The API's own 409 hands back the partner as it is.
    const stale = await w.agents.admin
      .put(`/api/partners/${partner.id}`)
      .send({ name: 'X', email: partner.email, version: Number(version) });
    expect(stale.status).toBe(409);
    expect(stale.body.error.details.current.howToReach).toBe('Le mercredi');
  });

  it('when an admin adds a service with its publics, area, way to reach and delay, then it is saved and listed on the partner page', async () => {
    const { partner } = await createFoodBank('Secours catholique');
    const path = `/admin/partenaires/${partner.id}`;
    const form = await w.agents.admin.get(`${path}/services/nouveau`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('Ajouter un service à Secours catholique');
    const res = await adminPost(
      `${path}/services`,
      {
        name: 'Accueil de jour',
        themes: ['logement-hebergement', 'sante'],
        audience: ['sans-domicile-fixe'],
        area: 'Angers',
        howToReach: 'Sans rendez-vous, 9 h - 12 h',
        responseDelayDays: '3',
        description: 'Douches, café, orientation',
      },
      `${path}/services/nouveau`,
    );
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(path);
    const row = await testKnex()('partner_services')
      .where({ partner_id: partner.id, name: 'Accueil de jour' })
      .first();
    expect(row).toMatchObject({
      themes: ['logement-hebergement', 'sante'],
      audience: ['sans-domicile-fixe'],
      area: 'Angers',
      how_to_reach: 'Sans rendez-vous, 9 h - 12 h',
      response_delay_days: 3,
      description: 'Douches, café, orientation',
    });
    const page = await w.agents.admin.get(path);
    expect(page.text).toContain('Service « Accueil de jour » ajouté.');
    expect(page.text).toContain('Services (2)');
    expect(page.text).toContain(
      'Logement et hébergement, Santé · pour : Personnes sans domicile fixe',
    );
    expect(page.text).toContain('Réponse sous 3 jours ouvrés');
  });

  it('when an admin edits a service, then its response delay, themes and publics change; a sub-theme already chosen stays offered', async () => {
    const { partner, service } = await createFoodBank('Banque alimentaire du Nord');
    const path = `/admin/partenaires/${partner.id}/services/${service.id}`;
    const partnerPage = async () =>
      (await w.agents.admin.get(`/admin/partenaires/${partner.id}`)).text;
    // No delay of its own: an empty field, and the structure's delay applies.
    expect(await partnerPage()).toContain('Réponse : délai de la structure');
    const page = await w.agents.admin.get(path);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(
      /id="service-themes-equipement-et-alimentation--alimentation"[^>]*checked/,
    );
    expect(page.text).toContain('Équipement et alimentation — alimentation');
    expect(page.text).toContain('vide : le délai de la structure');
    expect(inputValue(page.text, 'service-responseDelayDays') ?? '').toBe('');
    const res = await adminPost(path, {
      name: 'Colis alimentaires',
      themes: ['equipement-et-alimentation--alimentation', 'famille'],
      audience: ['familles-enfants'],
      responseDelayDays: '8',
    });
    expect(res.status).toBe(303);
    const row = await testKnex()('partner_services').where({ id: service.id }).first();
    expect(row).toMatchObject({
      themes: ['equipement-et-alimentation--alimentation', 'famille'],
      audience: ['familles-enfants'],
      response_delay_days: 8,
    });
    const saved = await partnerPage();
    expect(saved).toContain('Service « Colis alimentaires » enregistré.');
    expect(saved).toContain('Réponse sous 8 jours ouvrés');
    expect(inputValue((await w.agents.admin.get(path)).text, 'service-responseDelayDays')).toBe(
      '8',
    );

    // The delay emptied: the service sets none again.
    const cleared = await adminPost(path, {
      name: 'Colis alimentaires',
      themes: ['famille'],
      responseDelayDays: '',
    });
    expect(cleared.status).toBe(303);
    expect(
      (await testKnex()('partner_services').where({ id: service.id }).first()).response_delay_days,
    ).toBeNull();
    expect(await partnerPage()).toContain('Réponse : délai de la structure');
  });

  it('when a service is saved from a page read before another admin changed it, then 409 keeps what was typed beside what is saved now, at the saved version', async () => {
    const { partner, service } = await createFoodBank('Banque alimentaire du Sud');
    const path = `/admin/partenaires/${partner.id}/services/${service.id}`;
    const page = await w.agents.admin.get(path);
    const version = versionOf(page.text);
    expect(version).toBe('1');
    const theirs = await w.agents.admin
      .put(`/api/partners/${partner.id}/services/${service.id}`)
      .send({ name: 'Colis alimentaires', themes: ['famille'], responseDelayDays: 3 });
    expect(theirs.status).toBe(200);
    const res = await adminPost(path, {
      version,
      name: 'Colis alimentaires',
      themes: ['equipement-et-alimentation--alimentation'],
      responseDelayDays: '10',
    });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Ce service a été modifié pendant que vous le changiez');
    expect(res.text).toMatch(/<a href="#service-responseDelayDays">[^<]+<\/a> : « 3 »/);
    expect(res.text).toContain('value="10"');
    expect(versionOf(res.text)).toBe('2');
    expect(
      (await testKnex()('partner_services').where({ id: service.id }).first()).response_delay_days,
    ).toBe(3);
    const again = await adminPost(path, {
      version: '2',
      name: 'Colis alimentaires',
      themes: ['equipement-et-alimentation--alimentation'],
      responseDelayDays: '10',
    });
    expect(again.status).toBe(303);
    expect(
      (await testKnex()('partner_services').where({ id: service.id }).first()).response_delay_days,
    ).toBe(10);
  });

  it('when a service is saved without a theme, with a bad delay or with another service’s name, then the form says so by the field', async () => {
    const { partner, service } = await createFoodBank('Restos du quartier');
    const base = `/admin/partenaires/${partner.id}/services`;
    await adminPost(
      base,
      { name: 'Repas', themes: ['equipement-et-alimentation'] },
      `${base}/nouveau`,
    );

    const noTheme = await adminPost(`${base}/${service.id}`, {
      name: 'Colis alimentaires',
      responseDelayDays: 'cinq',
      area: 'Nord',
    });
    expect(noTheme.status).toBe(400);
    expect(noTheme.text).toContain('Le formulaire contient 2 erreurs');
    expect(noTheme.text).toContain(
      '<p id="service-themes-error" class="fr-error-text fr-fieldset__element">Cochez au moins une thématique</p>',
    );
    expect(noTheme.text).toContain('id="service-responseDelayDays-error"');
    expect(noTheme.text).toContain('value="cinq"');
    expect(noTheme.text).toContain('value="Nord"');

    const taken = await adminPost(`${base}/${service.id}`, {
      name: 'repas',
      themes: ['famille'],
      audience: ['femmes'],
    });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain(
      '<p id="service-name-error" class="fr-error-text">Un autre service de ce partenaire porte déjà ce nom.</p>',
    );
    expect(taken.text).toMatch(/id="service-audience-femmes"[^>]*checked/);
    expect((await testKnex()('partner_services').where({ id: service.id }).first()).name).toBe(
      'Colis alimentaires',
    );
    // A service of another partner is not this partner's.
    const elsewhere = await createFoodBank('Autre banque');
    expect((await w.agents.admin.get(`${base}/${elsewhere.service.id}`)).status).toBe(404);
  });

  it('when a new partner is added with its publics, then they are saved with its first service', async () => {
    const res = await adminPost('/admin/partenaires', {
      name: 'Maison des familles',
      email: 'contact@familles.test',
      serviceName: 'Parentalité',
      themes: ['famille'],
      audience: ['familles-enfants', 'femmes'],
      responseDelayDays: '4',
    });
    expect(res.status).toBe(303);
    const partner = await testKnex()('partners').where({ name: 'Maison des familles' }).first();
    const service = await testKnex()('partner_services').where({ partner_id: partner.id }).first();
    expect(service).toMatchObject({
      name: 'Parentalité',
      audience: ['familles-enfants', 'femmes'],
      response_delay_days: 4,
    });
  });

  it('when an admin marks a stale partner as reviewed, then it is no longer "À revoir" and its services are offered again', async () => {
    const { partner } = await createFoodBank('Partenaire oublié');
    await testKnex()('partners')
      .where({ id: partner.id })
      .update({ last_reviewed_at: '2025-01-01' });
    await testKnex()('partner_services')
      .where({ partner_id: partner.id })
      .update({ last_reviewed_at: '2025-01-01' });
    const before = await w.agents.admin.get('/admin/partenaires');
    const item = (html: string) =>
      new RegExp(`<strong>Partenaire oublié</strong>[\\s\\S]*?</li>\\s*</ul>`).exec(html)?.[0] ??
      '';
    expect(item(before.text)).toContain('À revoir');
    const res = await adminPost(`/admin/partenaires/${partner.id}/revue`, {}, '/admin/partenaires');
    expect(res.status).toBe(303);
    const after = await w.agents.admin.get('/admin/partenaires');
    expect(after.text).toContain('Partenaire revu.');
    expect(item(after.text)).not.toContain('À revoir');
    const offered = await w.agents.worker.get('/api/partners?offerable=true');
    expect(offered.body.items.map((p: { name: string }) => p.name)).toContain('Partenaire oublié');
    expect(
      (await w.agents.worker.post(`/admin/partenaires/${partner.id}/revue`).type('form').send({}))
        .status,
    ).toBe(403);
  });

  // ---- Referral history and the workers' list filters ----------------------------------------

  it('when a referral has moved, then the person’s referral page shows its history with who did what', async () => {
    const person = await createPerson(w.agents.worker, { firstName: 'Aline', lastName: 'Mercier' });
    await giveConsent(w.agents.worker, person.id, w.food.partner.id);
    const id = (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id;
    await driveTo(ctx, w, id, 'on_hold');
    const page = await w.agents.worker.get(`/personnes/${person.id}/orientations`);
    expect(page.status).toBe(200);
    const history = /<ol class="av-list">([\s\S]*?)<\/ol>/.exec(page.text)?.[1] ?? '';
    const entries = [...history.matchAll(/<strong>([^<]+)<\/strong>/g)].map((m) => m[1]);
    expect(entries).toEqual(expect.arrayContaining(['Demandée', 'Acceptée', 'En pause']));
    expect(history).toContain(`par ${w.team.worker.name}`);
    expect(history).toContain('En attente de pièces');
  });

  it('when a worker filters the referral list by "mine" and by status, then only those referrals are listed', async () => {
    const mine = await createPerson(w.agents.worker, { firstName: 'Bruno', lastName: 'Leroy' });
    const theirs = await createPerson(w.agents.worker2, { firstName: 'Chloé', lastName: 'Durand' });
    await giveConsent(w.agents.worker, mine.id, w.food.partner.id);
    await giveConsent(w.agents.worker2, theirs.id, w.food.partner.id);
    const mineId = (await refer(w.agents.worker, mine.id, w.food.partner.id)).body.id;
    await refer(w.agents.worker2, theirs.id, w.food.partner.id);
    await driveTo(ctx, w, mineId, 'accepted');

    const names = async (query: string) => {
      const res = await w.agents.worker.get(`/orientations${query}`);
      expect(res.status).toBe(200);
      return {
        bruno: res.text.includes('Bruno Leroy'),
        chloe: res.text.includes('Chloé Durand'),
        html: res.text,
      };
    };
    const all = await names('');
    expect([all.bruno, all.chloe]).toEqual([true, true]);
    const onlyMine = await names('?mine=true');
    expect([onlyMine.bruno, onlyMine.chloe]).toEqual([true, false]);
    expect(onlyMine.html).toMatch(/id="mine"[^>]*checked/);
    const accepted = await names('?status=accepted');
    expect([accepted.bruno, accepted.chloe]).toEqual([true, false]);
    expect(accepted.html).toMatch(/<option value="accepted" selected/);
    const requested = await names('?mine=true&status=requested');
    expect([requested.bruno, requested.chloe]).toEqual([false, false]);
    // "Tous" sends an empty status.
    const every = await names('?status=');
    expect([every.bruno, every.chloe]).toEqual([true, true]);
    expect((await w.agents.worker.get('/orientations?status=archived')).status).toBe(400);
  });

  // ---- A move answered from a page the referral has since left (version) ----------------------

  describe('move forms and the version the page was read at', () => {
    /** A fresh requested referral of the food bank, for a person named after the test. */
    async function freshReferral(firstName: string) {
      const person = await createPerson(w.agents.worker, { firstName, lastName: 'Martin' });
      await giveConsent(w.agents.worker, person.id, w.food.partner.id);
      return (await refer(w.agents.worker, person.id, w.food.partner.id)).body.id as string;
    }

    /** The referral page as `agent` reads it now, and a move sent later with what it showed. */
    async function readThenMove(agent: Agent, id: string) {
      const page = await agent.get(`/orientations/${id}`);
      expect(page.status).toBe(200);
      return (to: string, extra: Record<string, string> = {}, from = page.text) =>
        agent
          .post(`/orientations/${id}/transition`)
          .type('form')
          .send({ _csrf: csrfOf(from), version: versionOf(from), to, ...extra });
    }

    const apiView = async (id: string) => (await w.agents.worker.get(`/api/referrals/${id}`)).body;
    const eventsOf = (id: string) => testKnex()('referral_events').where({ referral_id: id });
    /** A move through the API by someone else, between the page read and its answer. */
    async function meanwhile(agent: Agent, id: string, to: string, reason?: string) {
      const res = await agent
        .post(`/api/referrals/${id}/transitions`)
        .send(reason ? { to, reason } : { to });
      expect(res.status).toBe(200);
    }

    it('when a page shows move forms, then each carries the version the page shows', async () => {
      const id = await freshReferral('Inès');
      await driveTo(ctx, w, id, 'accepted');
      const page = await w.agents.partner.get(`/orientations/${id}`);
      const versions = [...page.text.matchAll(/name="version" value="(\d+)"/g)].map((m) => m[1]);
      const forms = [...page.text.matchAll(/action="\/orientations\/[^"]+\/transition"/g)];
      // Accepted, the partner may start, hold, complete or fail it.
      expect(forms).toHaveLength(4);
      expect(versions).toEqual(['2', '2', '2', '2']);
    });

    it('when a page shows move forms, then only the moves taking a reason have a reason field, and a reason sent with an acceptance is refused in French, nothing changed', async () => {
      const id = await freshReferral('Iris');
      /** The targets of the page's move forms, each with whether it has a reason field. */
      const reasonFields = (html: string) =>
        Object.fromEntries(
          html
            .split('<form')
            .filter((f) => f.includes('/transition"'))
            .map((f) => [/name="to" value="(\w+)"/.exec(f)![1], f.includes('name="reason"')]),
        );
      const requested = await w.agents.partner.get(`/orientations/${id}`);
      expect(reasonFields(requested.text)).toEqual({ accepted: false, rejected: true });
      const later = await readThenMove(w.agents.partner, id);
      const forged = await later('accepted', { reason: 'Dossier complet' });
      expect(forged.status).toBe(400);
      expect(forged.text).toContain(
        'Une raison n’accompagne qu’un refus, une annulation, une mise en pause ou un échec : rien n’a été enregistré',
      );
      expect(await apiView(id)).toMatchObject({ status: 'requested', version: 1 });
      expect(await eventsOf(id)).toHaveLength(1);
      await driveTo(ctx, w, id, 'accepted');
      const accepted = await w.agents.partner.get(`/orientations/${id}`);
      expect(reasonFields(accepted.text)).toEqual({
        in_progress: false,
        on_hold: true,
        completed: false,
        failed: true,
      });
      await driveTo(ctx, w, id, 'on_hold', 'accepted');
      const held = await w.agents.partner.get(`/orientations/${id}`);
      expect(reasonFields(held.text)).toEqual({
        in_progress: false,
        completed: false,
        failed: true,
      });
      const cancel = await w.agents.worker.get(`/orientations/${id}`);
      expect(reasonFields(cancel.text)).toEqual({ cancelled: true });
    });

    it('when the partner rejects from a page read before a colleague accepted, then 409 says it is now accepted, quotes the reason and nothing changes', async () => {
      const id = await freshReferral('Jules');
      const later = await readThenMove(w.agents.partner, id);
      await meanwhile(w.agents.partner2, id, 'accepted');
      const res = await later('rejected', { reason: 'no_capacity' });
      expect(res.status).toBe(409);
      expect(res.text).toContain('Cette demande a été modifiée pendant que vous répondiez');
      expect(res.text).toContain('Son statut est maintenant : <strong>Acceptée</strong>');
      expect(res.text).toContain('« Refuser » n’est plus possible depuis ce statut.');
      // The rejection is no longer offered: what was chosen is quoted, not lost.
      expect(res.text).toContain(
        'Motif du refus : <span class="av-pre">Pas de place ou de capacité',
      );
      expect(await apiView(id)).toMatchObject({ status: 'accepted', version: 2 });
      expect(await eventsOf(id)).toHaveLength(2);
    });

    it('when the requester cancels from a page read before the partner accepted, then 409 keeps the typed reason with the new version, and sending it again cancels', async () => {
      const id = await freshReferral('Karim');
      const later = await readThenMove(w.agents.worker, id);
      await meanwhile(w.agents.partner, id, 'accepted');
      const stale = await later('cancelled', { reason: 'La personne a retrouvé un logement' });
      expect(stale.status).toBe(409);
      expect(stale.text).toMatch(/<title>Erreur — Orientation — /);
      expect(stale.text).toContain('Son statut est maintenant : <strong>Acceptée</strong>');
      expect(stale.text).toContain('Ce que vous aviez saisi est conservé dans le formulaire.');
      expect(inputValue(stale.text, 'move-cancelled-reason')).toBe(
        'La personne a retrouvé un logement',
      );
      expect(versionOf(stale.text)).toBe('2');
      expect((await apiView(id)).status).toBe('accepted');
      // Sending the form again, as the page now shows it, applies the move on purpose.
      const again = await later(
        'cancelled',
        { reason: inputValue(stale.text, 'move-cancelled-reason')! },
        stale.text,
      );
      expect(again.status).toBe(303);
      expect(await apiView(id)).toMatchObject({ status: 'cancelled', version: 3 });
    });

    it('when the partner completes with an outcome while a colleague failed it, then 409 says it failed and quotes the outcome', async () => {
      const id = await freshReferral('Léna');
      await driveTo(ctx, w, id, 'accepted');
      const later = await readThenMove(w.agents.partner, id);
      await meanwhile(w.agents.partner2, id, 'failed', 'Personne injoignable');
      const res = await later('completed', { outcome: 'Colis remis le 25 novembre' });
      expect(res.status).toBe(409);
      expect(res.text).toContain('Son statut est maintenant : <strong>Échouée</strong>');
      expect(res.text).toContain('Résultat : <span class="av-pre">Colis remis le 25 novembre');
      expect(await apiView(id)).toMatchObject({ status: 'failed', outcome: null });
    });

    it('when the version field is mangled, then 400 says to reload and nothing changes', async () => {
      const id = await freshReferral('Maël');
      const page = await w.agents.partner.get(`/orientations/${id}`);
      const res = await w.agents.partner
        .post(`/orientations/${id}/transition`)
        .type('form')
        .send({ _csrf: csrfOf(page.text), to: 'accepted', version: '1 OR 1=1' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Cette page n’est plus valable : rechargez-la avant de répondre');
      expect((await apiView(id)).status).toBe('requested');
    });
  });
});
