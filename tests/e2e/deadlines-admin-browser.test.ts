import type { Browser, Locator, Page } from 'playwright-core';
import { createTestContext, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
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
  seeWithShot(locator, text, 'failure-echeances');

/**
 * An admin finds a failed deadline on the deadlines page and retries it, then looks at the
 * queue dashboard; a worker turns the digest email off on their account page. Axe on our pages.
 */
describe('failed deadlines and the account page in the browser', () => {
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

  it('an admin retries a failed deadline from the deadlines page, which does not offer the queue dashboard', async () => {
    const [row] = await testKnex()('deadlines')
      .insert({
        structure_id: team.structure.id,
        kind: 'referral.email_partner',
        subject_type: 'referral',
        subject_id: team.structure.id,
        due_at: new Date('2026-12-01T09:00:00Z'),
        status: 'failed',
        attempts: 12,
        last_error:
          'Gave up: still failing more than 72 h after its due moment (last failure: ECONNREFUSED)',
      })
      .returning('id');
    const page = await openPage(browser, { width: 1280, height: 900, problems });
    page.setDefaultTimeout(10000);
    await signIn(page, '/admin/echeances', team.admin.email);
    await see(page.getByRole('heading', { level: 1 }), 'Échéances');
    await see(page.locator(`#echeance-${row.id}`), 'Courriel de demande au partenaire');
    await see(page.locator(`#echeance-${row.id}`), 'ECONNREFUSED');
    await checkPage(page, 'echeances-admin');

    await page
      .locator(`#echeance-${row.id}`)
      .getByRole('button', { name: /Relancer/ })
      .click();
    await see(page.getByRole('status'), 'Échéance relancée');
    expect((await testKnex()('deadlines').where({ id: row.id }).first()).status).toBe('pending');
    await checkPage(page, 'echeances-admin-relancee');

    // The queue dashboard spans every structure: the operator's, on the private port only.
    expect(await page.getByRole('link', { name: /file de traitement/ }).count()).toBe(0);
  });

  it('a worker turns the digest email off on their account page, reached from the header', async () => {
    const page = await openPage(browser, { width: 375, height: 740, problems });
    page.setDefaultTimeout(10000);
    await signIn(page, '/notifications', team.worker.email);
    // The header's name of the signed-in user leads to their account (in the menu on a phone).
    const account = page.locator('a.av-user').first();
    expect(await account.textContent()).toContain(team.worker.name);
    await page.goto(`${served.base}${await account.getAttribute('href')}`);
    await see(page.getByRole('heading', { level: 1 }), 'Mon compte');
    await checkPage(page, 'mon-compte');
    // DSFR draws the box over the label: the label is what a finger or a mouse clicks.
    await page.locator('label[for="emailNotifications"]').click();
    expect(await page.getByLabel('Recevoir aussi le point du jour par courriel').isChecked()).toBe(
      false,
    );
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await see(page.getByRole('status'), 'ne vous sera plus envoyé par courriel');
    const row = await testKnex()('users').where({ id: team.worker.id }).first();
    expect(row.email_notifications).toBe(false);
  });
});
