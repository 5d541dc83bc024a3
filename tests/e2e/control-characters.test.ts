import request from 'supertest';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam } from '../setup/factories';
import { csrfOf, textareaValue } from './html';

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

/** The labels the partner forms show their fields under. */
const PARTNER_FIELD_LABELS: Record<string, string> = {
  name: 'Nom',
  area: 'Zone d’intervention',
  howToReach: 'Comment le joindre',
  serviceName: 'Premier service',
  description: 'Présentation',
};

/**
 * Control characters (NUL and the like) in any form field, query or body: a 400 naming the
 * field, on the pages (in French, by the label the form shows it under) as on the API, never a
 * 500 and nothing written. A form sent from its page comes back there, what was typed kept
 * without the character and the mistake next to its field.
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
    'when the admin partner creation form gets %j with a control character, then a 400 page in French naming the field by its label and no partner',
    async (field, bad) => {
      const before = await partners();
      const res = await postForm(admin, '/admin/partenaires', '/admin/partenaires', {
        ...newPartner,
        [field]: `Avant${bad}après`,
      });
      expect(res.status).toBe(400);
      expect(res.type).toBe('text/html');
      expect(res.text).toMatch(FRENCH);
      expect(res.text).toContain(`Le champ « ${PARTNER_FIELD_LABELS[field]} »`);
      expect(res.text).not.toContain(`« ${field} »`);
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
    expect(service.text).toContain('« Zone d’intervention »');
  });

  it('when the intake form gets a control character, then a 400 page naming it by its label and no person', async () => {
    const res = await postForm(worker, '/personnes/nouvelle', '/personnes/nouvelle', {
      alias: 'Homme\u0008 au banc',
      source: 'outreach',
    });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(FRENCH);
    expect(res.text).toContain('« Surnom ou description »');
    expect(res.text).not.toContain('« alias »');
    expect(await testKnex()('persons').where({ structure_id: team.structure.id }).first()).toBe(
      undefined,
    );
  });

  describe('a form sent from its page', () => {
    let personId: string;
    beforeAll(async () => {
      personId = (await worker.post('/api/persons').send({ alias: 'Gare', source: 'outreach' }))
        .body.id;
    });

    const contact = {
      channel: 'street',
      outcome: 'reached',
      occurredAt: '2026-11-20T10:00',
      summary: 'Rencontré au parvis',
    };

    it('when a contact pasted from a word processor holds U+000B in its private note, then the file comes back with what was typed, the character removed and the mistake next to the note; nothing saved', async () => {
      const file = `/personnes/${personId}`;
      const page = await worker.get(file);
      const res = await worker
        .post(`${file}/contacts`)
        .set('Referer', `${ctx.config.publicUrl}${file}`)
        .type('form')
        .send({ _csrf: csrfOf(page.text), ...contact, privateNote: 'Ligne un\u000bligne deux' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(file);
      const back = await worker.get(file);
      expect(back.text).toContain(
        'Le champ « Note privée » contenait un caractère invisible (souvent venu d’un copier-coller), retiré de ce que vous aviez saisi : rien n’a été enregistré.',
      );
      expect(back.text).not.toContain('privateNote »');
      expect(textareaValue(back.text, 'contact-privateNote')).toBe('Ligne unligne deux');
      expect(textareaValue(back.text, 'contact-summary')).toBe('Rencontré au parvis');
      expect(back.text).toContain(
        '<p id="contact-privateNote-error" class="fr-error-text">Ce champ contenait un caractère invisible',
      );
      expect(await testKnex()('contacts').where({ person_id: personId })).toHaveLength(0);
      // Checked and sent again, it is saved.
      const saved = await worker
        .post(`${file}/contacts`)
        .type('form')
        .send({ _csrf: csrfOf(back.text), ...contact, privateNote: 'Ligne un ligne deux' });
      expect(saved.status).toBe(303);
      expect(await testKnex()('contacts').where({ person_id: personId })).toHaveLength(1);
    });

    it('when the next follow-up’s title holds a control character in a form not shown to come from this app, then the 400 page names the field by its label', async () => {
      const file = `/personnes/${personId}`;
      const res = await postForm(worker, file, `${file}/contacts`, {
        ...contact,
        nextFollowUpTitle: 'Rappeler\u000b',
      });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Le champ « Intitulé du prochain suivi »');
      expect(res.text).not.toContain('nextFollowUpTitle');
    });

    it('when an admin form whose page cannot fill itself again holds one, then its page shows what was typed, read-only, without the character', async () => {
      const page = await admin.get('/admin/partenaires');
      const res = await admin
        .post('/admin/partenaires')
        .set('Referer', `${ctx.config.publicUrl}/admin/partenaires`)
        .type('form')
        .send({ _csrf: csrfOf(page.text), ...newPartner, description: 'Colis\u0007 le mardi' });
      expect(res.headers.location).toBe('/admin/partenaires');
      const back = await admin.get('/admin/partenaires');
      expect(back.text).toContain('Le champ « Présentation » contenait un caractère invisible');
      expect(textareaValue(back.text, 'saisie-conservee-description')).toBe('Colis le mardi');
      expect(textareaValue(back.text, 'saisie-conservee-name')).toBe('Secours');
    });

    it('when the public report form holds one, then the 400 page names the field and shows what was typed without it, making no session', async () => {
      const res = await request(ctx.app)
        .post(`/signaler/${team.structure.slug}`)
        .set('Origin', new URL(ctx.config.publicUrl).origin)
        .type('form')
        .send({ location: 'Parvis de la gare', who: 'Un homme âgé', concern: 'Il a froid\u0008' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Le champ « Qu’est-ce qui vous inquiète ? » contient');
      expect(textareaValue(res.text, 'saisie-conservee-concern')).toBe('Il a froid');
      expect(textareaValue(res.text, 'saisie-conservee-location')).toBe('Parvis de la gare');
      expect(res.headers['set-cookie']).toBeUndefined();
    });
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
