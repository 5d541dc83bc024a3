import type { Browser } from 'playwright-core';
import { createTestContext, type TestContext } from '../setup/context';
import { createTeam } from '../setup/factories';
import { checkPage, launchChromium, newPage, see, serve, type Served } from './browser';

/**
 * The pages every footer links to, in a browser: the legal pages pass axe, and the API reference
 * (Swagger UI from the app's own files) draws under the strict CSP.
 */
describe('pages of the footer', () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  beforeAll(async () => {
    ctx = await createTestContext();
    served = await serve(ctx.app);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
    await served.close();
    await ctx.close();
  });

  it('when a visitor follows each legal link of the footer, then each page opens and passes axe', async () => {
    await createTeam();
    const problems: string[] = [];
    const page = await newPage(browser, { problems });
    await page.goto(`${served.base}/connexion`);
    for (const [link, title, name] of [
      ['Accessibilité', 'Déclaration d’accessibilité', 'legal-accessibilite'],
      ['Mentions légales', 'Mentions légales', 'legal-mentions'],
      ['Données personnelles', 'Données personnelles', 'legal-donnees'],
    ]) {
      // "Accessibilité : <level>" once a structure exists; the others by their name.
      await page
        .locator('footer')
        .getByRole('link', { name: new RegExp(`^${link}`) })
        .click();
      await see(page.locator('h1'), title);
      await checkPage(page, name);
    }
    expect(problems).toEqual([]);
  }, 60000);

  it('when someone opens the API reference from the footer without signing in, then the endpoints are drawn with their titles, nothing is refused by the CSP and nothing comes from another site', async () => {
    const problems: string[] = [];
    const page = await newPage(browser, { problems });
    const elsewhere: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(served.base) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
    await page.goto(`${served.base}/connexion`);
    await page.locator('footer').getByRole('link', { name: "Documentation de l'API" }).click();
    await see(page.locator('h1'), "Référence de l'API");
    const timeline = page.locator('.opblock-summary', { hasText: '/api/persons/{id}/timeline' });
    // Swagger UI (a 1.7 MB bundle) parses and resolves the 210 KB document in the browser before
    // it draws anything: 3–4 s on an idle 2-core machine here, past 10 s once in CI with two test
    // workers and their browsers beside it. Our own pages keep see()'s 10 s.
    await see(
      timeline,
      'Contacts, follow-ups, referrals and right changes of a person',
      'failure',
      30000,
    );
    await timeline.first().click();
    await see(page.locator('.opblock-body'), 'Policy: role:worker|manager');
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
    // The viewer's own faults (contrast, nested controls) are listed in the accessibility
    // statement; the page around it is checked.
    await checkPage(page, 'api-reference', { exclude: '#api-reference' });
  }, 90000);
});
