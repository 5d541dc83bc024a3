import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam } from '../setup/factories';
import { csrfOf } from './html';

type Agent = ReturnType<typeof request.agent>;

/** Posts a form of the page at `from` with its CSRF token. */
async function postForm(agent: Agent, from: string, action: string, fields: object) {
  const page = await agent.get(from);
  return agent
    .post(action)
    .type('form')
    .send({ _csrf: csrfOf(page.text), ...fields });
}

const FRENCH = /caractère invisible/;

/**
 * Control characters (NUL and the like) in any form field, query or body: a 400 naming the
 * field, on the pages (in French) as on the API, never a 500 and nothing written.
 */
describe('control characters in forms, queries and bodies', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let admin: Agent;
  let worker: Agent;
  let partnerId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    admin = await loginAs(ctx.app, team.admin.email);
    worker = await loginAs(ctx.app, team.worker.email);
    partnerId = (await createPartner(testKnex(), 'Épicerie solidaire', team.structure.id)).id;
  });
  afterAll(async () => ctx.close());

  const partners = async () => Number((await testKnex()('partners').count({ n: '*' }))[0].n);

  const newPartner = {
    name: 'Secours',
    email: 'contact@secours.test',
    serviceName: 'Aide',
    themes: 'famille',
  };

  it.each([
    ['name', '\u0000'],
    ['area', '\u0000'],
    ['howToReach', '\u0000'],
    ['serviceName', '\u0000'],
    ['name', '\u0007'],
    ['description', '\u001b[31m'],
  ])(
    'when the admin partner creation form gets %j with a control character, then a 400 page in French naming the field and no partner',
    async (field, bad) => {
      const before = await partners();
      const res = await postForm(admin, '/admin/partenaires', '/admin/partenaires', {
        ...newPartner,
        [field]: `Avant${bad}après`,
      });
      expect(res.status).toBe(400);
      expect(res.type).toBe('text/html');
      expect(res.text).toMatch(FRENCH);
      expect(res.text).toContain(`« ${field} »`);
      expect(await partners()).toBe(before);
    },
  );

  it('when the partner edit and service forms get a NUL, then 400 pages, never 500', async () => {
    const edit = await postForm(
      admin,
      `/admin/partenaires/${partnerId}`,
      `/admin/partenaires/${partnerId}`,
      { name: 'Épicerie', email: 'a@b.fr', howToReach: 'Sonner\u0000 deux fois' },
    );
    expect(edit.status).toBe(400);
    expect(edit.text).toMatch(FRENCH);
    const service = await postForm(
      admin,
      `/admin/partenaires/${partnerId}/services/nouveau`,
      `/admin/partenaires/${partnerId}/services`,
      { name: 'Colis', themes: 'famille', area: 'Angers\u0000' },
    );
    expect(service.status).toBe(400);
    expect(service.text).toMatch(FRENCH);
    expect(service.text).toContain('« area »');
  });

  it('when the intake form gets a control character, then a 400 page naming it and no person', async () => {
    const res = await postForm(worker, '/personnes/nouvelle', '/personnes/nouvelle', {
      alias: 'Homme\u0008 au banc',
      source: 'outreach',
    });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(FRENCH);
    expect(res.text).toContain('« alias »');
    expect(await testKnex()('persons').where({ structure_id: team.structure.id }).first()).toBe(
      undefined,
    );
  });

  it('when a multi-line field has tabs and new lines, then they are kept (they are not control characters here)', async () => {
    const res = await worker
      .post('/api/persons')
      .send({ alias: 'Lignes', source: 'outreach', situation: 'Une ligne\r\n\tpuis une autre' });
    expect(res.status).toBe(201);
  });

  it('when a one-line partner field (name, area, how to reach) has a tab or a line break, then 400 naming it; a description may hold several lines', async () => {
    for (const field of ['name', 'area', 'howToReach']) {
      const res = await admin.post('/api/partners').send({
        name: 'Ligne',
        email: 'ligne@partner.test',
        services: [],
        [field]: 'Première\nseconde',
      });
      expect([res.status, res.body.error?.details?.[0]?.field]).toEqual([400, field]);
    }
    const page = await postForm(admin, '/admin/partenaires', '/admin/partenaires', {
      ...newPartner,
      area: 'Angers\tcentre',
    });
    expect(page.status).toBe(400);
    const multi = await admin.post('/api/partners').send({
      name: 'Plusieurs lignes',
      email: 'lignes@partner.test',
      description: 'Première ligne\r\nseconde ligne',
      services: [],
    });
    expect(multi.status).toBe(201);
  });

  it('when a page query has a control character, then a 400 page in French naming the parameter', async () => {
    const res = await admin.get('/admin/partenaires').query({ tri: 'nom\u0000' });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(FRENCH);
    expect(res.text).toContain('« tri »');
  });

  it('when an API query or body has a control character other than NUL, then 400 naming the field', async () => {
    const search = await worker.get('/api/persons').query({ q: 'Nadia\u0001' });
    expect(search.status).toBe(400);
    expect(search.body.error.details).toEqual([
      {
        field: 'q',
        message: expect.stringMatching(/control character/),
        code: 'control_character',
      },
    ]);
    const before = await partners();
    const body = await admin.post('/api/partners').send({
      name: 'Cloche\u0007',
      email: 'cloche@partner.test',
      services: [],
    });
    expect(body.status).toBe(400);
    expect(body.body.error.details[0].field).toBe('name');
    const nested = await admin.post('/api/partners').send({
      name: 'Cloche',
      email: 'cloche@partner.test',
      services: [{ name: 'Aide\u007f', themes: ['famille'] }],
    });
    expect(nested.status).toBe(400);
    expect(nested.body.error.details[0].field).toBe('services.0.name');
    expect(await partners()).toBe(before);
  });
});
