import { createTestContext, type TestContext } from '../../setup/context';
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
    expect(noReason.status).toBe(303);
    const after = await w.agents.partner.get(`/orientations/${referralId}`);
    expect(after.text).toContain('Indiquez une raison');
    const accepted = await move(w.agents.partner, 'accepted');
    expect(accepted.status).toBe(303);
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
});
