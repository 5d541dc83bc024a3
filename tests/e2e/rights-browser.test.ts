import type { Browser, Locator, Page } from 'playwright-core';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { createTeam } from '../setup/factories';
import {
  checkPage,
  launchChromium,
  newPage as openPage,
  see as seeWithShot,
  serve,
  type Served,
  signIn as signInAt,
} from './browser';

const see = (locator: Locator, text: string | RegExp) =>
  seeWithShot(locator, text, 'failure-droits');

/**
 * Rights in a real browser on a phone-size screen: the intake offers the file already known, the
 * worker opens it and sets two rights, the path moving to supported, then resolved; the admin's catalogue page. Each page is checked with axe.
 */
describe('rights in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    served = await serve(ctx.app);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  const signIn = (page: Page, path: string, email: string) =>
    signInAt(page, `${served.base}${path}`, email);

  const badge = (page: Page) => page.locator('.av-title-row .fr-badge');

  it('a worker at the intake is offered the file already known, opens it and sets two rights on a phone; the path goes to supported, then resolved', async () => {
    const api = await loginAs(ctx.app, team.worker.email);
    const known = await api.post('/api/persons').send({
      firstName: 'Odette',
      lastName: 'Ménard',
      birthYear: 1958,
      place: 'marché de la Doutre',
      source: 'outreach',
    });
    expect(known.status).toBe(201);
    const page = await openPage(browser, { width: 375, height: 740, problems });
    page.setDefaultTimeout(10000);
    await signIn(page, '/personnes/nouvelle', team.worker.email);

    // The intake: typed without accents, the known file is offered before anything is created.
    await see(page.getByRole('heading', { level: 1 }), 'Nouvelle personne');
    await page.getByLabel(/^Prénom/).fill('Odette');
    await page.getByLabel(/^Nom/).fill('Menard');
    await page.getByLabel(/^Lieu de rencontre/).fill('marché Doutre');
    await page.getByLabel(/^Année de naissance/).fill('1958');
    await page.getByRole('button', { name: 'Enregistrer la personne' }).click();
    const offer = page.locator('#deja-connu');
    await see(offer.getByRole('heading', { level: 2 }), 'Déjà connu·e ?');
    await checkPage(page, 'droits-doublon-propose');
    await offer.getByRole('link', { name: /Odette Ménard/ }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Odette Ménard');
    expect(new URL(page.url()).pathname).toBe(`/personnes/${known.body.id}`);
    await see(badge(page), 'Repéré');

    // First right: the CSS, not claimed for lack of knowing it.
    await page.getByText('Suivre un autre droit').click();
    await page.locator('#suivre-droit-code').selectOption('css');
    await page.locator('#suivre-droit-status').selectOption('not_claimed');
    await page.locator('#suivre-droit-reason').selectOption('non_knowledge');
    await page.getByRole('button', { name: 'Suivre ce droit' }).click();
    await see(page.getByRole('status'), 'non recouru');

    // Second right: the ASPA, claim under way: the path is supported.
    await page.getByText('Suivre un autre droit').click();
    await page.locator('#suivre-droit-code').selectOption('aspa');
    await page.locator('#suivre-droit-status').selectOption('claim_in_progress');
    await page.getByRole('button', { name: 'Suivre ce droit' }).click();
    await see(page.getByRole('status'), 'demande en cours');
    await see(badge(page), 'Accompagné');
    await checkPage(page, 'droits-telephone');

    // Both rights end: ASPA obtained with its amount, the CSS obtained too.
    await page.locator('#droit-aspa summary').click();
    await page.locator('#droit-aspa-status').selectOption('obtained');
    await page.locator('#droit-aspa-monthlyAmount').fill('287,50');
    await page.getByRole('button', { name: /Enregistrer : Allocation de solidarité/ }).click();
    await see(page.getByRole('status'), 'obtenu');
    await page.locator('#droit-css summary').click();
    await page.locator('#droit-css-status').selectOption('obtained');
    // Its old reason stays selected: moving on from not claimed drops it.
    await page.getByRole('button', { name: /Enregistrer : Complémentaire santé/ }).click();
    await see(page.getByRole('status'), 'obtenu');
    await see(badge(page), 'Situation réglée');
    await see(page.locator('#droit-aspa'), /287,50\s€ par mois/);
    await checkPage(page, 'droits-resolu');
    expect(problems).toEqual([]);
  }, 120000);

  it('an admin adds an aid to the catalogue and archives it', async () => {
    const page = await openPage(browser, { problems });
    page.setDefaultTimeout(10000);
    await signIn(page, '/admin/droits', team.admin.email);
    await see(page.getByRole('heading', { level: 1 }), 'Droits et aides');
    await page.getByLabel(/^Intitulé/).fill('Aide aux vacances');
    await page.getByLabel(/^Code/).fill('aide_vacances');
    await page.getByRole('button', { name: 'Ajouter l’aide' }).click();
    await see(page.getByRole('status'), 'Aide aux vacances');
    await page.getByRole('button', { name: 'Archiver : Aide aux vacances' }).click();
    await see(page.getByRole('status'), 'archivé');
    await checkPage(page, 'admin-droits');
    expect(problems).toEqual([]);
  }, 60000);
});
