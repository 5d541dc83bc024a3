import type { Browser } from 'playwright-core';
import { createTestContext, DEFAULT_PASSWORD, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { checkPage, launchChromium, newPage, see, serve, type Served } from './browser';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** Lists longer than a page say how long they are and come in pages, never cut silently. */
describe('long lists: the timeline and Mes actions in pages', () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let worker: Agent;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    const [person] = await testKnex()('persons')
      .insert({
        structure_id: team.structure.id,
        alias: 'Suivi de longue date',
        source: 'outreach',
      })
      .returning('id');
    personId = person.id;
    const day = 24 * 3600 * 1000;
    const start = Date.now() - 400 * day;
    // 53 contacts, one a day, the newest "Contact n°53".
    await testKnex()('contacts').insert(
      Array.from({ length: 53 }, (_, i) => ({
        structure_id: team.structure.id,
        person_id: personId,
        author_id: team.worker.id,
        occurred_at: new Date(start + i * day),
        channel: i === 52 ? 'video' : 'phone',
        outcome: 'reached',
      })),
    );
    // 103 open follow-ups for the worker, due from tomorrow on.
    await testKnex()('follow_ups').insert(
      Array.from({ length: 103 }, (_, i) => ({
        structure_id: team.structure.id,
        person_id: personId,
        assignee_id: team.worker.id,
        created_by: team.worker.id,
        title: `Suivi n°${String(i + 1).padStart(3, '0')}`,
        due_at: new Date(Date.now() + (i + 1) * day),
      })),
    );
  });
  afterAll(async () => ctx.close());

  const timelineItems = (html: string) =>
    (/<ol class="av-list av-timeline">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '').match(/<li /g)
      ?.length ?? 0;

  it('when a person has more events than a page, then the timeline says how many and links to the next page', async () => {
    const first = await worker.get(`/personnes/${personId}`);
    expect(first.status).toBe(200);
    // 53 contacts and 103 follow-ups.
    expect(first.text).toContain('Historique (156)');
    expect(first.text).toContain('Du plus récent au plus ancien : événements 1 à 50 sur 156');
    expect(timelineItems(first.text)).toBe(50);
    expect(first.text).toContain(`href="/personnes/${personId}?page=2#historique"`);
    expect(first.text).toContain('1 / 4');

    const last = await worker.get(`/personnes/${personId}?page=4`);
    expect(last.text).toContain('événements 151 à 156 sur 156');
    expect(timelineItems(last.text)).toBe(6);
    expect(last.text).toContain(`href="/personnes/${personId}?page=3#historique"`);
    expect(last.text).not.toContain('Page suivante');
    // Newest first: the follow-ups due later fill pages 1 to 3, then the newest contact, and
    // the oldest contacts end the last page.
    const third = await worker.get(`/personnes/${personId}?page=3`);
    expect(third.text.includes('Contact · Visio')).toBe(true);
    expect(first.text.includes('Contact ·')).toBe(false);
    expect(last.text.includes('Contact · Téléphone')).toBe(true);
  });

  it('when the page number is not a number, then the page does not exist', async () => {
    expect((await worker.get(`/personnes/${personId}?page=deux`)).status).toBe(404);
    expect((await worker.get(`/personnes/${personId}?autre=1`)).status).toBe(404);
    expect((await worker.get('/?page=0')).status).toBe(404);
  });

  it('when a worker has more open follow-ups than a page, then Mes actions says how many and links to the rest', async () => {
    const first = await worker.get('/');
    expect(first.status).toBe(200);
    expect(first.text).toContain('103 suivis à faire : cette page montre les suivis 1 à 100');
    expect(first.text).toContain('Suivi n°100');
    expect(first.text).not.toContain('Suivi n°101');
    expect(first.text).toContain('href="/?page=2"');
    const second = await worker.get('/?page=2');
    expect(second.text).toContain('cette page montre les suivis 101 à 103');
    expect(second.text).toContain('Suivi n°103');
    expect(second.text).not.toContain('Suivi n°100<');
    // Completing from page 2 comes back to page 2.
    expect(second.text).toContain('name="retour" value="/?page=2"');
  });

  it('when the open follow-ups of a person exceed a page, then the file counts them all', async () => {
    const file = await worker.get(`/personnes/${personId}`);
    expect(file.text).toContain('Suivis en cours (103)');
    expect(file.text).toContain('Les plus proches : suivis 1 à 100 sur 103');
  });

  describe('in Chromium', () => {
    let served: Served;
    let browser: Browser;
    beforeAll(async () => {
      served = await serve(ctx.app);
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await served?.close();
    });

    it('the paged lists pass axe and "Page suivante" leads on', async () => {
      const problems: string[] = [];
      const page = await newPage(browser, { problems });
      await page.goto(`${served.base}/connexion`);
      await page.getByLabel('Adresse électronique').fill(team.worker.email);
      await page.getByLabel('Mot de passe').fill(DEFAULT_PASSWORD);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await see(page.locator('main'), 'cette page montre les suivis 1 à 100');
      await checkPage(page, '21-mes-actions-pages');
      await page
        .getByRole('navigation', { name: 'Pages de mes suivis' })
        .getByRole('link', { name: 'Page suivante' })
        .click();
      await see(page.locator('main'), 'cette page montre les suivis 101 à 103');

      await page.goto(`${served.base}/personnes/${personId}`);
      await checkPage(page, '22-fiche-historique-pages');
      await page
        .getByRole('navigation', { name: 'Pages de l’historique' })
        .getByRole('link', { name: 'Page suivante' })
        .click();
      await see(page.locator('main'), 'événements 51 à 100 sur 156');
      expect(problems).toEqual([]);
    }, 120000);
  });
});
