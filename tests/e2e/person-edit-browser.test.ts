import type { Browser, Locator, Page } from 'playwright-core';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { createDistrict, createTeam } from '../setup/factories';
import {
  checkPage,
  focusIsOn,
  launchChromium,
  newPage as openPage,
  see as seeWithShot,
  serve,
  type Served,
  signIn,
} from './browser';

/**
 * Completing a person file "later" in a real browser: the edit page, a save over a colleague's
 * change, closing. Each page is checked with axe and photographed under test-output/.
 */
const see = (locator: Locator, text: string | RegExp) =>
  seeWithShot(locator, text, 'failure-modifier');

describe('editing a person file in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let base: string;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    await createDistrict(team.structure.id, 'Belle-Beille', true);
    served = await serve(ctx.app);
    base = served.base;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  function newPage(width?: number, height?: number): Promise<Page> {
    return openPage(browser, { width, height, problems });
  }

  it('a worker completes a file met by alias, saves over a colleague’s change on purpose, then closes it', async () => {
    const api = await loginAs(ctx.app, team.worker2.email);
    const created = await api
      .post('/api/persons')
      .send({ alias: 'Homme ~50 ans, parvis de la médiathèque', source: 'outreach' });
    const personPath = `/personnes/${created.body.id}`;

    const page = await newPage();
    await signIn(page, `${base}${personPath}`, team.worker.email);
    await see(page.getByRole('heading', { level: 1 }), 'Homme ~50 ans');

    // From the file to the edit page; every field is there, pre-filled.
    await page.getByRole('link', { name: 'Modifier la fiche' }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Modifier la fiche de');
    expect(await page.getByLabel('Surnom ou description').inputValue()).toBe(
      'Homme ~50 ans, parvis de la médiathèque',
    );
    await checkPage(page, '11-modifier-fiche');

    await page.getByLabel('Prénom', { exact: true }).fill('Jean');
    await page.getByLabel('Quartier').selectOption({ label: 'Belle-Beille (QPV)' });
    // The DSFR draws the box on the label, which is what a user clicks.
    await page.locator('label[for="pauseReminders"]').click();
    expect(await page.getByLabel('Suspendre les relances automatiques').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Enregistrer les modifications' }).click();
    await see(page.getByRole('status'), 'La fiche est mise à jour.');
    await see(page.getByRole('heading', { level: 1 }), 'Jean (Homme ~50 ans');
    await see(page.locator('section[aria-labelledby="identite"]'), 'Belle-Beille (QPV)');

    // A colleague saves the phone while the worker is typing a last name.
    await page.getByRole('link', { name: 'Modifier la fiche' }).click();
    await page.getByLabel('Nom', { exact: true }).fill('Dupont');
    const version = Number(await page.locator('input[name="version"]').first().inputValue());
    const theirs = await api
      .patch(`/api/persons/${created.body.id}`)
      .send({ version, phone: '07 00 00 00 00' });
    expect(theirs.status).toBe(200);
    await page.getByRole('button', { name: 'Enregistrer les modifications' }).click();
    const alert = page.getByRole('alert');
    await see(alert, "Quelqu'un a modifié cette fiche pendant que vous la modifiiez");
    expect(await focusIsOn(page, '.fr-alert--warning[role="alert"]')).toBe(true);
    await see(alert, 'Téléphone');
    await see(alert, '07 00 00 00 00');
    expect(await page.getByLabel('Nom', { exact: true }).inputValue()).toBe('Dupont');
    await checkPage(page, '12-modifier-fiche-conflit');
    // The worker keeps the colleague's phone, then saves their own change deliberately.
    await page.getByLabel('Téléphone').fill('07 00 00 00 00');
    await page.getByRole('button', { name: 'Enregistrer les modifications' }).click();
    await see(page.getByRole('status'), 'La fiche est mise à jour.');
    await see(page.getByRole('heading', { level: 1 }), 'Jean Dupont');
    await see(page.locator('section[aria-labelledby="identite"]'), '07 00 00 00 00');

    // Closing from the edit page; the badge follows.
    await page.getByRole('link', { name: 'Modifier la fiche' }).click();
    await page.getByLabel('Motif de clôture').selectOption({ label: 'Déménagement' });
    await page.getByRole('button', { name: 'Clôturer la fiche' }).click();
    await see(page.getByRole('status'), 'La fiche est clôturée');
    await see(page.locator('.av-title-row'), 'Clôturé');

    // The edit page on a phone-sized screen, without horizontal scrolling.
    const phone = await newPage(375, 740);
    await phone.context().addCookies(await page.context().cookies());
    await phone.goto(`${base}${personPath}/modifier`);
    await see(phone.getByRole('heading', { level: 1 }), 'Modifier la fiche de');
    const overflow = await phone.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await checkPage(phone, '13-modifier-fiche-mobile');

    expect(problems).toEqual([]);
  }, 120000);

  it('when a worker changes only the phone, then a two-line postal address keeps its lines', async () => {
    const api = await loginAs(ctx.app, team.worker.email);
    const created = await api.post('/api/persons').send({
      firstName: 'Lise',
      lastName: 'Martin',
      address: '12 rue Pierre-Lise\n49000 Angers',
      source: 'outreach',
    });
    expect(created.status).toBe(201);

    const page = await newPage();
    await signIn(page, `${base}/personnes/${created.body.id}/modifier`, team.worker.email);
    await see(page.getByRole('heading', { level: 1 }), 'Modifier la fiche de');
    expect(await page.getByLabel('Adresse postale').inputValue()).toBe(
      '12 rue Pierre-Lise\n49000 Angers',
    );
    await page.getByLabel('Téléphone').fill('06 12 34 56 78');
    await page.getByRole('button', { name: 'Enregistrer les modifications' }).click();
    await see(page.getByRole('status'), 'La fiche est mise à jour.');
    // The file shows it on its two lines, as the envelope will.
    expect(await page.locator('dd', { hasText: '12 rue Pierre-Lise' }).innerText()).toBe(
      '12 rue Pierre-Lise\n49000 Angers',
    );

    const saved = await api.get(`/api/persons/${created.body.id}`);
    expect(saved.body.phone).toBe('06 12 34 56 78');
    // As typed through the API: the form's line ending (CRLF) does not change it either.
    expect(saved.body.address).toBe('12 rue Pierre-Lise\n49000 Angers');
    expect(problems).toEqual([]);
  }, 60000);
});
