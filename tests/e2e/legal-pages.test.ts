import request from 'supertest';
import { LEGAL_LINKS } from '../../server/web/views/layout';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { createTeam } from '../setup/factories';
import { csrfOf, textOf } from './html';

type Agent = ReturnType<typeof request.agent>;

const PAGES = ['/accessibilite', '/mentions-legales', '/donnees-personnelles'];

describe('legal pages and the footer that links to them', () => {
  let ctx: TestContext;
  let first: Awaited<ReturnType<typeof createTeam>>;
  let second: Awaited<ReturnType<typeof createTeam>>;
  let admin: Agent;
  beforeAll(async () => {
    ctx = await createTestContext();
    // The deployment's first structure speaks for visitors who name none.
    first = await createTeam();
    second = await createTeam();
    admin = await loginAs(ctx.app, second.admin.email);
  });
  afterAll(async () => ctx.close());

  /** The second structure's legal settings, as its admin sets them through the API. */
  async function fillSecond() {
    const { body } = await admin.get('/api/settings');
    const res = await admin.patch('/api/settings').send({
      version: body.version,
      publisherAddress: '1 place de la Mairie, 49000 Angers',
      publicationDirector: 'Mme Directrice, présidente du CCAS',
      hostingProvider: 'Hébergeur public, 2 rue du Serveur, 75000 Paris, 01 23 45 67 89',
      accessibilityLevel: 'partiellement_conforme',
      accessibilityAuditDate: '2026-10-15',
      accessibilityIssues: 'Le plan du site manque.\nLes PDF ne sont pas balisés.',
      accessibilityContact: 'accessibilite@ccas.example.fr',
      dpoContact: 'dpo@ccas.example.fr',
      retentionMonths: 36,
    });
    expect(res.status).toBe(200);
  }

  it('when a visitor opens each page without signing in, then it answers 200 for the first structure, saying what is not filled in yet', async () => {
    for (const path of PAGES) {
      const res = await request(ctx.app).get(path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers['content-type']).toMatch(/html/);
      expect(res.text).toContain(first.structure.name);
      expect(res.text).not.toContain(second.structure.name);
    }
    const a11y = await request(ctx.app).get('/accessibilite');
    expect(textOf(a11y.text, 'niveau-conformite')).toBe('non conforme');
    expect(a11y.text).toContain('Aucun audit de conformité');
    expect(a11y.text).toContain('Défenseur des droits');
    expect(a11y.text).toContain('Swagger UI');
    const data = await request(ctx.app).get('/donnees-personnelles');
    expect(textOf(data.text, 'duree-conservation')).toBe('24 mois');
    expect(data.text).toContain('conservé 12 mois');
    expect(data.text).toContain('réclamation à la CNIL');
    expect(data.text).toContain('non renseigné par la structure');
    expect((await request(ctx.app).get('/mentions-legales')).text).toContain('AGPL-3.0-or-later');
  });

  it('when the structure fills its settings, then its pages say them, for a visitor naming it and for its signed-in users', async () => {
    await fillSecond();
    const named = (path: string) =>
      request(ctx.app).get(path).query({ structure: second.structure.slug });
    const a11y = await named('/accessibilite');
    expect(textOf(a11y.text, 'niveau-conformite')).toBe('partiellement conforme');
    expect(a11y.text).toContain('réalisé le 15 octobre 2026');
    expect(a11y.text).toContain('<li>Les PDF ne sont pas balisés.</li>');
    expect(a11y.text).toContain('href="mailto:accessibilite@ccas.example.fr"');
    const legal = await named('/mentions-legales');
    expect(legal.text).toContain('1 place de la Mairie, 49000 Angers');
    expect(legal.text).toContain('Mme Directrice, présidente du CCAS');
    expect(legal.text).toContain('Hébergeur public, 2 rue du Serveur');
    expect(legal.text).toContain(`href="/donnees-personnelles?structure=${second.structure.slug}"`);
    const data = await named('/donnees-personnelles');
    expect(textOf(data.text, 'duree-conservation')).toBe('36 mois');
    expect(data.text).toContain('href="mailto:dpo@ccas.example.fr"');

    // Signed in, without naming it: the user's own structure.
    const worker = await loginAs(ctx.app, second.worker.email);
    expect(textOf((await worker.get('/accessibilite')).text, 'niveau-conformite')).toBe(
      'partiellement conforme',
    );
    // The first structure is untouched.
    expect(textOf((await request(ctx.app).get('/accessibilite')).text, 'niveau-conformite')).toBe(
      'non conforme',
    );
    // Every footer states the level of the structure it speaks for (RGAA).
    const footerOf = (html: string) => /<footer[\s\S]*<\/footer>/.exec(html)?.[0] ?? '';
    for (const path of ['/', '/personnes', '/notifications'])
      expect(footerOf((await worker.get(path)).text)).toContain(
        'Accessibilité : partiellement conforme',
      );
    expect(footerOf(a11y.text)).toContain('Accessibilité : partiellement conforme');
    expect(footerOf((await request(ctx.app).get('/connexion')).text)).toContain(
      'Accessibilité : non conforme',
    );
  });

  it('when a manager must still enrol a second factor, then the legal pages and the API reference open all the same', async () => {
    // A structure of its own: once it requires the factor, its admin too must enrol first.
    const third = await createTeam();
    const thirdAdmin = await loginAs(ctx.app, third.admin.email);
    const { body } = await thirdAdmin.get('/api/settings');
    expect(
      (
        await thirdAdmin
          .patch('/api/settings')
          .send({ version: body.version, requireTwoFactor: true })
      ).status,
    ).toBe(200);
    const manager = await loginAs(ctx.app, third.manager.email);
    expect((await manager.get('/personnes')).status).toBe(303);
    for (const path of [...PAGES, '/docs/api'])
      expect([path, (await manager.get(path)).status]).toEqual([path, 200]);
  });

  it('when the structure named is unknown or the query is not a slug, then 404 and 400 pages', async () => {
    const unknown = await request(ctx.app).get('/mentions-legales?structure=inconnue');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('<html lang="fr"');
    expect((await request(ctx.app).get('/mentions-legales?structure=%00x')).status).toBe(400);
    expect((await request(ctx.app).get('/accessibilite?autre=1')).status).toBe(400);
  });

  it('when any page is shown, signed in or not, then its footer links to the three legal pages and the API reference', async () => {
    const worker = await loginAs(ctx.app, first.worker.email);
    const manager = await loginAs(ctx.app, first.manager.email);
    const pages: [string, Agent | null][] = [
      ['/connexion', null],
      ['/mot-de-passe-oublie', null],
      ['/page-qui-n-existe-pas', null],
      ['/accessibilite', null],
      ['/', worker],
      ['/personnes', worker],
      ['/', manager],
      ['/admin', admin],
      ['/admin/parametres', admin],
    ];
    for (const [path, agent] of pages) {
      const res = await (agent ?? request(ctx.app)).get(path);
      const footer = /<footer[\s\S]*<\/footer>/.exec(res.text)?.[0] ?? '';
      for (const link of LEGAL_LINKS)
        expect([path, footer.includes(`href="${link.href}"`)]).toEqual([path, true]);
    }
  });

  it('when an admin changes the legal settings on the settings page, then they are saved, and a wrong date is a 400 naming the field', async () => {
    const page = await admin.get('/admin/parametres');
    expect(page.text).toContain('Pages légales');
    expect(page.text).toContain('1 place de la Mairie, 49000 Angers');
    const version = /name="version" value="(\d+)"/.exec(page.text)![1];
    const numbers = Object.fromEntries(
      [...page.text.matchAll(/<input[^>]*name="(\w+)"[^>]*value="([^"]*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    // A checkbox's value is there whether ticked or not: the second factor stays off.
    delete numbers.requireTwoFactor;
    const post = (fields: Record<string, string>) =>
      admin
        .post('/admin/parametres')
        .type('form')
        .send({ ...numbers, _csrf: csrfOf(page.text), version, ...fields });
    const bad = await post({ accessibilityAuditDate: '15/10/2026' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('href="#accessibilityAuditDate"');
    const saved = await post({
      accessibilityLevel: 'totalement_conforme',
      publicationDirector: 'M. Directeur',
    });
    expect(saved.status).toBe(303);
    const { body } = await admin.get('/api/settings');
    expect(body).toMatchObject({
      accessibilityLevel: 'totalement_conforme',
      publicationDirector: 'M. Directeur',
      hostingProvider: expect.stringContaining('Hébergeur public'),
    });
  });
});
