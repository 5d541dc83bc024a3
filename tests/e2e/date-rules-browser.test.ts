import type { Browser, Page } from 'playwright-core';
import { fixedClock } from '../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam } from '../setup/factories';
import {
  checkPage,
  launchChromium,
  newPage as openPage,
  noScriptTwin,
  see,
  serve,
  type Served,
  signIn,
} from './browser';

/** Saturday 5 December 2026, 23:58 in Paris. */
const NOW = '2026-12-05T22:58:00.000Z';

/**
 * On a phone, in a real browser: a late action is planned only once its date is confirmed, and a
 * consent is withdrawn only from its confirmation page, which works without JavaScript. Each
 * page is axe-clean.
 */
describe('date confirmation and consent withdrawal in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let base: string;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    team = await createTeam();
    served = await serve(ctx.app);
    base = served.base;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  async function logIn(page: Page, path: string) {
    await signIn(page, `${base}${path}`, team.worker.email);
  }

  it('a worker on a phone plans a follow-up at a past hour: refused by the date with the typed values kept, then confirmed with the box', async () => {
    const api = await loginAs(ctx.app, team.worker.email);
    const person = (
      await api.post('/api/persons').send({ alias: 'Femme au caddie', source: 'outreach' })
    ).body as { id: string };
    const page = await openPage(browser, { width: 390, height: 844, problems });
    await logIn(page, `/personnes/${person.id}`);
    await see(page.getByRole('heading', { level: 1 }), 'Femme au caddie');

    await page.getByLabel('Action à faire').fill('Appel à la CAF, fait ce soir');
    await page.locator('#suivi-dueAt').fill('2026-12-05T20:00');
    await page.getByRole('button', { name: 'Planifier le suivi' }).click();
    await see(page.locator('#suivi-dueAt-error'), 'La date du suivi est passée');
    expect(await page.getByLabel('Action à faire').inputValue()).toBe(
      'Appel à la CAF, fait ce soir',
    );
    expect(await page.locator('#suivi-dueAt').inputValue()).toBe('2026-12-05T20:00');
    await checkPage(page, '40-suivi-date-passee-mobile');

    // The DSFR draws the box on the label, which is what a user taps.
    await page.locator('label[for="suivi-allowPast"]').click();
    expect(await page.locator('#suivi-allowPast').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Planifier le suivi' }).click();
    await see(page.getByRole('status'), 'Le suivi est planifié');
    await see(page.locator('section[aria-labelledby="suivis-en-cours"]'), 'En retard');
    const [f] = await testKnex()('follow_ups').where({ person_id: person.id });
    expect(f.due_at.toISOString()).toBe('2026-12-05T19:00:00.000Z');
    expect(problems).toEqual([]);
  });

  it('withdrawing a consent goes through its confirmation page, without JavaScript', async () => {
    const api = await loginAs(ctx.app, team.worker.email);
    const person = (
      await api.post('/api/persons').send({ alias: 'Homme au banc', source: 'outreach' })
    ).body as { id: string };
    const partner = await createPartner(testKnex(), 'Atelier vélo solidaire', team.structure.id);
    const consent = (
      await api
        .post(`/api/persons/${person.id}/consents`)
        .send({ purpose: 'referral', partnerId: partner.id, method: 'oral', givenAt: NOW })
        .expect(201)
    ).body as { id: string };

    const page = await openPage(browser, { width: 390, height: 844, javaScriptEnabled: false });
    await logIn(page, `/personnes/${person.id}/orientations`);
    await page.getByRole('link', { name: 'Retirer ce consentement…' }).click();
    await see(
      page.getByRole('heading', { level: 1 }),
      'Retirer le consentement de Homme au banc ?',
    );
    await see(page.locator('main'), 'Aucune orientation en cours vers Atelier vélo solidaire');
    const twin = await noScriptTwin(browser, page, page.url(), { width: 390, height: 844 });
    await checkPage(twin, '41-retrait-consentement-mobile');
    await twin.close();

    // "Non" goes back without a change.
    await page.getByRole('link', { name: 'Non, revenir aux orientations' }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Orientations et consentements');
    expect((await testKnex()('consents').where({ id: consent.id }).first()).revoked_at).toBeNull();

    await page.getByRole('link', { name: 'Retirer ce consentement…' }).click();
    await page.getByRole('button', { name: 'Oui, retirer le consentement' }).click();
    await see(page.getByRole('status'), 'Consentement retiré.');
    expect(
      (await testKnex()('consents').where({ id: consent.id }).first()).revoked_at,
    ).not.toBeNull();
  });
});
