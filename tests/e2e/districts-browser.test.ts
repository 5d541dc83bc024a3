import type { Browser } from 'playwright-core';
import { createTestContext, type TestContext } from '../setup/context';
import { createTeam } from '../setup/factories';
import {
  checkPage,
  focusIsOn,
  launchChromium,
  newPage,
  see,
  serve,
  type Served,
  signIn,
} from './browser';

/**
 * An admin sets up the structure's districts in a real browser: a mistake is announced and
 * linked to its field, the district is added, flagged QPV and archived. Each page passes axe.
 */
describe('districts in the browser', () => {
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

  it('an admin opens Quartiers from the administration, corrects a mistake, adds a district, flags it QPV and archives it', async () => {
    const page = await newPage(browser, { problems });
    page.setDefaultTimeout(10000);
    await signIn(page, `${served.base}/admin`, team.admin.email);
    await page.getByRole('link', { name: 'Quartiers' }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Quartiers');
    await checkPage(page, 'admin-quartiers-vide');

    await page.getByLabel(/^Nom/).fill('Belle-Beille');
    await page.getByLabel(/^Code/).fill('pas un code');
    await page.getByRole('button', { name: 'Ajouter le quartier' }).click();
    await see(page.locator('.av-error-summary'), 'Code');
    expect(await focusIsOn(page, '.av-error-summary')).toBe(true);
    await page.locator('.av-error-summary a', { hasText: 'Code' }).click();
    expect(await focusIsOn(page, '#nouveau-code')).toBe(true);
    await checkPage(page, 'admin-quartiers-erreur');

    await page.getByLabel(/^Code/).fill('490070101');
    await page.getByRole('button', { name: 'Ajouter le quartier' }).click();
    await see(page.getByRole('status'), 'Quartier « Belle-Beille » ajouté.');

    const item = page.locator('li.av-item', { hasText: 'Belle-Beille' });
    await item.locator('summary', { hasText: 'Modifier : Belle-Beille' }).click();
    await item.locator('label', { hasText: 'Quartier prioritaire' }).click();
    await page.getByRole('button', { name: 'Enregistrer : Belle-Beille' }).click();
    await see(page.getByRole('status'), 'Quartier « Belle-Beille » enregistré.');
    await see(item.locator('.fr-badge'), 'QPV');

    await page.getByRole('button', { name: 'Archiver : Belle-Beille' }).click();
    await see(page.getByRole('status'), 'archivé');
    await see(item.locator('.fr-badge'), 'Archivé le');
    await checkPage(page, 'admin-quartiers');
    expect(problems).toEqual([]);
  }, 60000);
});
