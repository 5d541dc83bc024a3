import type { Browser } from 'playwright-core';
import { createTestContext, type TestContext } from '../setup/context';
import { checkPage, launchChromium, newPage, see, serve, type Served } from './browser';

/** The API reference page: Swagger UI from the app's own files, under the strict CSP. */
describe('API reference page', () => {
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

  it('when someone opens it from the footer without signing in, then the endpoints are drawn with their titles, nothing is refused by the CSP and nothing comes from another site', async () => {
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
    await see(timeline, 'Contacts, follow-ups, referrals and right changes of a person');
    await timeline.first().click();
    await see(page.locator('.opblock-body'), 'Policy: role:worker|manager');
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
    // The viewer's own faults (contrast, nested controls) are listed in the accessibility
    // statement; the page around it is checked.
    await checkPage(page, 'api-reference', { exclude: '#api-reference' });
  }, 90000);
});
