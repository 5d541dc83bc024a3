import type { Browser } from 'playwright-core';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { launchChromium, newPage, see, serve, signIn, type Served } from './browser';

/**
 * A creation form in a real browser: once sent, its button is disabled and a second submit goes
 * nowhere (`/static/submit-once.js`). A convenience: the form's one-time key is what makes the
 * server create once (idempotency-pages.test.ts).
 */
describe('a creation form sent twice in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let personId: string;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    served = await serve(ctx.app);
    browser = await launchChromium();
    const api = await loginAs(ctx.app, team.worker.email);
    personId = (await api.post('/api/persons').send({ alias: 'Dame au vélo', source: 'outreach' }))
      .body.id;
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  it('when "Enregistrer le contact" is tapped, then the button is disabled and a second submit is stopped; the contact is saved once', async () => {
    const page = await newPage(browser, { width: 375, height: 740, problems });
    page.setDefaultTimeout(10000);
    await signIn(page, `${served.base}/personnes/${personId}`, team.worker.email);
    await see(page.getByRole('heading', { level: 1 }), 'Dame au vélo');
    await page.getByLabel(/^Canal/).selectOption('street');
    await page.getByLabel(/^Résultat/).selectOption('reached');
    // The connection held: the test keeps the page from leaving (a listener after the
    // script's), so the page stays as it is while the first post would be on its way.
    await page.evaluate(() => {
      const w = window as unknown as { submits: boolean[] };
      w.submits = [];
      window.addEventListener('submit', (e) => {
        w.submits.push(e.defaultPrevented);
        e.preventDefault();
      });
    });
    const submits = () =>
      page.evaluate(() => (window as unknown as { submits: boolean[] }).submits);
    const button = page.getByRole('button', { name: 'Enregistrer le contact' });
    await button.click();
    // The script disables the buttons just after the submit event (a button disabled during it
    // would leave its name out of the post): wait for it, up to the page's timeout.
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLButtonElement>('form[action$="/contacts"] button[type="submit"]')
          ?.disabled === true,
    );
    await expect(button.isDisabled()).resolves.toBe(true);
    // The second tap lands on the disabled button (force: a finger does not wait for it), and
    // a submit by other means (the keyboard's Enter) is stopped by the script.
    await button.click({ force: true });
    await page.evaluate(() =>
      document.querySelector<HTMLFormElement>('form[action$="/contacts"]')!.requestSubmit(),
    );
    expect(await submits()).toEqual([false, true]);
    // Let the first submit go: it is saved, once.
    await page.evaluate(() =>
      document.querySelector<HTMLFormElement>('form[action$="/contacts"]')!.submit(),
    );
    await see(page.getByRole('status'), 'Le contact est enregistré.');
    expect(await testKnex()('contacts').where({ person_id: personId })).toHaveLength(1);
    expect(problems).toEqual([]);
  }, 60000);
});
