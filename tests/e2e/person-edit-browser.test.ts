import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { createTestContext, DEFAULT_PASSWORD, loginAs, type TestContext } from '../setup/context';
import { createDistrict, createTeam } from '../setup/factories';

/**
 * Completing a person file "later" in a real browser (Debian's Chromium, headless): the edit
 * page, a save over a colleague's change, closing. Each page is checked with axe and
 * photographed under test-output/.
 */
const OUT = path.resolve('test-output');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

async function checkPage(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const blocking = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  expect(blocking.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}`)).toEqual([]);
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

async function see(locator: Locator, text: string | RegExp): Promise<void> {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: 10000 });
  } catch (err) {
    await locator
      .page()
      .screenshot({ path: path.join(OUT, 'failure-modifier.png'), fullPage: true });
    throw err;
  }
}

describe('editing a person file in the browser', () => {
  let ctx: TestContext;
  let server: Server;
  let base: string;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  const problems: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(OUT, { recursive: true });
    ctx = await createTestContext();
    team = await createTeam();
    await createDistrict(team.structure.id, 'Belle-Beille', true);
    server = ctx.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await ctx?.close();
  });

  async function newPage(width = 1280, height = 900): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width, height },
      locale: 'fr-FR',
      timezoneId: 'Europe/Paris',
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      // Pages answered 409 on purpose log "Failed to load resource"; other errors count.
      if (m.type() === 'error' && !/^Failed to load resource/.test(m.text()))
        problems.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.url().includes('/static/') && r.status() >= 400)
        problems.push(`${r.status()}: ${r.url()}`);
    });
    return page;
  }

  it('a worker completes a file met by alias, saves over a colleague’s change on purpose, then closes it', async () => {
    const api = await loginAs(ctx.app, team.worker2.email);
    const created = await api
      .post('/api/persons')
      .send({ alias: 'Homme ~50 ans, parvis de la médiathèque', source: 'outreach' });
    const personPath = `/personnes/${created.body.id}`;

    const page = await newPage();
    await page.goto(`${base}${personPath}`);
    await page.getByLabel('Adresse électronique').fill(team.worker.email);
    await page.getByLabel('Mot de passe').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
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
});
