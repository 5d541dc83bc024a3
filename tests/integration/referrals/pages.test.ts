import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPerson, giveConsent, refer, referralWorld, type Agent } from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

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

  it('when a form is posted without the CSRF token, then it is refused', async () => {
    const res = await w.agents.partner
      .post(`/orientations/${referralId}/transition`)
      .type('form')
      .send({ to: 'in_progress' });
    expect(res.status).toBe(403);
    expect((await w.agents.worker.get(`/api/referrals/${referralId}`)).body.status).toBe(
      'accepted',
    );
  });

  it('when a worker opens the person referral page, then consents and referrals are there; a partner gets 403', async () => {
    const page = await w.agents.worker.get(`/personnes/${personId}/orientations`);
    expect(page.status).toBe(200);
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
    expect(res.text).toContain('id="consent-givenAt-error"');
    expect(res.text).toContain('Indiquez la date et l’heure de l’accord');
    expect(res.text).toContain('value="2026-02-30T10:00"');
    expect(res.text).toMatch(new RegExp(`value="${w.other.id}"[^>]*selected`));
    expect(res.text).toMatch(/value="written"[^>]*selected/);
    expect(res.text).toMatch(/id="share-phone"[^>]*checked/);
    expect(res.text).toMatch(/id="share-address"[^>]*checked/);
    expect(res.text).not.toMatch(/id="share-email"[^>]*checked/);
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
    expect(res.text).toContain('Jardin partagé pour reprendre pied');
    expect(res.text).toContain('id="referral-partnerId-error"');
    expect(res.text).toContain('n’a pas donné son accord pour être orientée vers ce partenaire');
    expect(res.text).not.toContain('consent_required');
    expect(
      await testKnex()('referrals').where({ person_id: personId, partner_id: w.other.id }),
    ).toHaveLength(0);
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
});
