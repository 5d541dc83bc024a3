import request from 'supertest';
import { createTestContext, DEFAULT_PASSWORD, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { sessionCookie } from '../integration/api/helpers';
import { checkPage, launchChromium, newPage, see, serve } from './browser';
import { textOf } from './html';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What no error page may show: a stack, a file path, the error's own words. */
function expectNoInternals(html: string, ...words: string[]) {
  expect(html).not.toMatch(/\bat \S+ \(|\.tsx?:\d+|node_modules/);
  for (const w of words) expect(html).not.toContain(w);
}

/** The 500 and 503 pages: French, the request id to pass on, nothing internal. */
describe('error pages for unexpected errors and a missing database', () => {
  let up: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let cookie: string;

  beforeAll(async () => {
    up = await createTestContext();
    team = await createTeam();
    const login = await request(up.app)
      .post('/api/session')
      .send({ email: team.worker.email, password: DEFAULT_PASSWORD });
    cookie = sessionCookie(login);
  });
  afterAll(async () => up.close());

  it('when a page meets an unexpected error (a situation that no longer decrypts), then a French 500 page with the request id and no stack', async () => {
    const [person] = await testKnex()('persons')
      .insert({
        structure_id: team.structure.id,
        alias: 'Fiche abîmée',
        source: 'outreach',
        situation_enc: 'v1.AAAA.BBBB.CCCC',
      })
      .returning('id');
    const res = await request(up.app).get(`/personnes/${person.id}`).set('Cookie', cookie);
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<html lang="fr"');
    expect(res.text).toContain('<h1>Une erreur est survenue</h1>');
    expect(res.text).toContain('Erreur 500');
    expect(res.text).toContain('transmettez ce numéro');
    expect(textOf(res.text.replace(/<code>/, '<code id="request-id">'), 'request-id')).toMatch(
      UUID,
    );
    expectNoInternals(res.text, 'v1.AAAA', 'decrypt', 'Unsupported state', 'Fiche abîmée');
  });

  describe('when PostgreSQL cannot be reached', () => {
    let down: TestContext;
    beforeAll(async () => {
      down = await createTestContext({
        env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/aller_vers' },
      });
    });
    afterAll(async () => down.close());

    it('then a signed-in page is a French 503 page with the request id, rendered without the database', async () => {
      const res = await request(down.app).get('/personnes').set('Cookie', cookie).timeout(5000);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/html/);
      expect(res.text).toContain('<h1>Service momentanément indisponible</h1>');
      expect(res.text).toContain('ne parvient pas à joindre sa base de données');
      expect(res.text).toContain('Erreur 503');
      expect(textOf(res.text.replace(/<code>/, '<code id="request-id">'), 'request-id')).toMatch(
        UUID,
      );
      // The stylesheet is served without the database, so the page keeps its look.
      expect(res.text).toContain('/static/dsfr/dsfr.min.css');
      expect((await request(down.app).get('/static/dsfr/dsfr.min.css')).status).toBe(200);
      expectNoInternals(res.text, 'ECONNREFUSED', '127.0.0.1:1');
    });

    it('then the 503 page passes axe in Chromium with its styles loaded', async () => {
      const served = await serve(down.app);
      const browser = await launchChromium();
      try {
        const problems: string[] = [];
        const page = await newPage(browser, { problems });
        const [name, value] = cookie.split(';')[0].split('=');
        await page.context().addCookies([{ name, value, url: served.base }]);
        const res = await page.goto(`${served.base}/personnes`);
        expect(res?.status()).toBe(503);
        await see(page.getByRole('heading', { level: 1 }), 'Service momentanément indisponible');
        expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain(
          'Marianne',
        );
        await checkPage(page, '20-erreur-503');
        expect(problems).toEqual([]);
      } finally {
        await browser.close();
        await served.close();
      }
    });

    it('then a form sent to it is a 503 page too, not a hang nor a 500', async () => {
      const res = await request(down.app)
        .post('/personnes/nouvelle')
        .set('Cookie', cookie)
        .type('form')
        .send({ alias: 'Perdue', source: 'outreach' })
        .timeout(5000);
      expect(res.status).toBe(503);
      expect(res.text).toContain('Service momentanément indisponible');
      expectNoInternals(res.text, 'ECONNREFUSED');
    });
  });
});
