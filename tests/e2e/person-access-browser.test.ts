import fs from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { pdfTextOf } from '../setup/pdf';
import {
  checkPage,
  launchChromium,
  newPage as openPage,
  see as seeWithShot,
  serve,
  signIn as signInAt,
  type Served,
} from './browser';

const see = (locator: Locator, text: string | RegExp) =>
  seeWithShot(locator, text, 'failure-acces');

/**
 * The data-protection pages in a real browser: an admin sets the letterhead, a worker prints a
 * letter from the person file, a manager opens the file's journal and downloads the export.
 * Each page is checked with axe.
 */
describe('letterhead, letter, journal and export in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let personId: string;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    await testKnex()('users').where({ id: team.worker.id }).update({ name: 'Léa Martin' });
    served = await serve(ctx.app);
    browser = await launchChromium();
    const api = await loginAs(ctx.app, team.worker.email);
    personId = (
      await api.post('/api/persons').send({
        firstName: 'Odette',
        lastName: 'Ménard',
        address: '4 rue Plantagenêt\n49100 Angers',
        source: 'outreach',
      })
    ).body.id;
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  const signIn = (page: Page, path: string, email: string) =>
    signInAt(page, `${served.base}${path}`, email);

  it('an admin sets the letterhead of the letters', async () => {
    const page = await openPage(browser, { problems });
    page.setDefaultTimeout(10000);
    await signIn(page, '/admin/parametres', team.admin.email);
    await see(page.getByRole('heading', { level: 1 }), 'Paramètres de la structure');
    await page.getByLabel(/^Nom sur l’en-tête/).fill('CCAS d’Angers');
    await page.getByLabel(/^Adresse, ligne 1/).fill('Place Maurice-Saillant');
    await page.getByLabel(/^Adresse, ligne 2/).fill('49100 Angers');
    await page.getByLabel(/^Téléphone/).fill('02 41 05 49 49');
    await page.getByRole('button', { name: 'Enregistrer les paramètres' }).click();
    await see(page.getByRole('status'), 'Les paramètres sont enregistrés.');
    expect(await page.getByLabel(/^Adresse, ligne 2/).inputValue()).toBe('49100 Angers');
    await checkPage(page, 'admin-en-tete');
    expect(problems).toEqual([]);
  }, 60000);

  it('a worker prints a letter from the person file; the download is the letter, the contact is on the file', async () => {
    const page = await openPage(browser, { width: 375, height: 740, problems });
    page.setDefaultTimeout(10000);
    await signIn(page, `/personnes/${personId}`, team.worker.email);
    await page.getByRole('link', { name: 'Écrire un courrier' }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Écrire un courrier à Odette Ménard');
    await checkPage(page, 'courrier-formulaire');
    await page.getByLabel(/^Le courrier propose/).selectOption('call');
    await page.getByLabel(/^Quand appeler/).fill('du lundi au vendredi, de 9 h à 12 h');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Préparer le courrier (PDF)' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^courrier-\d{4}-\d{2}-\d{2}\.pdf$/);
    const { text } = await pdfTextOf(fs.readFileSync(await download.path()));
    expect(text).toContain('CCAS d’Angers Place Maurice-Saillant 49100 Angers');
    expect(text).toContain('Odette Ménard 4 rue Plantagenêt 49100 Angers');
    expect(text).toContain('Vous pouvez nous appeler au 02 41 05 49 49, du lundi au vendredi');
    await page.goto(`${served.base}/personnes/${personId}`);
    await see(page.locator('li'), /Contact · Courrier · Non joint/);
    expect(problems).toEqual([]);
  }, 60000);

  it('a manager reads who opened the file and downloads everything held about the person', async () => {
    const page = await openPage(browser, { problems });
    page.setDefaultTimeout(10000);
    await signIn(page, `/personnes/${personId}`, team.manager.email);
    await page.getByRole('link', { name: 'Journal des accès' }).click();
    await see(
      page.getByRole('heading', { level: 1 }),
      'Journal des accès à la fiche de Odette Ménard',
    );
    await see(page.locator('table'), /Léa Martin/);
    await checkPage(page, 'journal-des-acces');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /Exporter toutes les données/ }).click(),
    ]);
    const { text } = await pdfTextOf(fs.readFileSync(await download.path()));
    expect(text).toContain('Données détenues sur Odette Ménard');
    expect(text).toContain('Adresse : 4 rue Plantagenêt 49100 Angers');
    expect(text).toContain('Courrier préparé — Léa Martin');
    expect(problems).toEqual([]);
  }, 60000);
});
