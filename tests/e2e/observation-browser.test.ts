import type { Browser, Locator } from 'playwright-core';
import { fixedClock } from '../../server/lib/clock';
import { createTestContext, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
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

/** Saturday 28 November 2026, 23:00 in Paris. */
const NOW = '2026-11-28T22:00:00.000Z';
const see = (locator: Locator, text: string | RegExp) =>
  seeWithShot(locator, text, 'failure-observation');

/**
 * The observation dashboard in a real browser: the observer's home, a grouping and a period
 * chosen in the form, on a large screen and a phone; the manager's menu leads to it. Each page
 * checked with axe.
 */
describe('the observation dashboard in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    team = await createTeam();
    const north = await createDistrict(team.structure.id, 'Monplaisir', true);
    await createDistrict(team.structure.id, 'Doutre', false);
    await testKnex()('persons').insert(
      Array.from({ length: 12 }, (_, i) => ({
        structure_id: team.structure.id,
        alias: `Personne ${i}`,
        source: i < 9 ? 'outreach' : 'partner',
        district_id: i < 8 ? north.id : null,
        created_at: '2026-06-01T10:00:00Z',
      })),
    );
    served = await serve(ctx.app);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  const logIn = async (email: string, width?: number) => {
    const page = await openPage(browser, { problems, width, height: width ? 800 : undefined });
    await signIn(page, `${served.base}/connexion`, email);
    return page;
  };

  it('an observer lands on the dashboard, groups by district over a chosen period, and reads "< 5" in charts and tables', async () => {
    const page = await logIn(team.observer.email);
    await see(page.getByRole('heading', { level: 1 }), 'Observation sociale');
    await see(page.getByRole('img', { name: /Personnes repérées et jointes/ }), '');
    await see(page.locator('table').first(), '12');
    await checkPage(page, '60-observation');

    await page.getByLabel('Du').fill('2026-01-01');
    await page.getByLabel('Regrouper par').selectOption('district');
    await page.getByRole('button', { name: 'Afficher' }).click();
    await page.waitForURL(/by=district/);
    expect(new URL(page.url()).searchParams.get('from')).toBe('2026-01-01');
    await see(page.getByRole('heading', { level: 2 }), 'Détail par quartier');
    await see(page.locator('table', { hasText: 'Tous les indicateurs' }), 'Monplaisir');
    await see(page.locator('table', { hasText: 'Tous les indicateurs' }), '< 5');
    const csv = page.getByRole('link', { name: 'Télécharger le tableau (CSV)' });
    expect(await csv.getAttribute('href')).toBe(
      '/api/observation.csv?from=2026-01-01&to=2026-11-28&by=district',
    );
    await checkPage(page, '61-observation-quartiers');

    // An end before the start: the summary, focused, leads to the end field, marked invalid.
    await page.getByLabel('Au (inclus)').fill('2025-12-01');
    await page.getByRole('button', { name: 'Afficher' }).click();
    await see(page.locator('.av-error-summary'), 'Au (inclus) : La date de fin');
    expect(await focusIsOn(page, '.av-error-summary')).toBe(true);
    expect(await page.getByLabel('Au (inclus)').getAttribute('aria-invalid')).toBe('true');
    await checkPage(page, '61b-observation-periode-erreur');
    await page.getByRole('link', { name: /^Au \(inclus\) :/ }).click();
    expect(await focusIsOn(page, '#to')).toBe(true);
    expect(problems).toEqual([]);
  });

  it('on a phone, the dashboard reads without sideways scrolling', async () => {
    const page = await logIn(team.observer.email, 375);
    await see(page.getByRole('heading', { level: 1 }), 'Observation sociale');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await checkPage(page, '62-observation-telephone');
  });

  it('a manager opens it from the menu', async () => {
    const page = await logIn(team.manager.email);
    await see(page.getByRole('heading', { level: 1 }), 'Tableau de l’équipe');
    await page.getByRole('link', { name: 'Observation', exact: true }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Observation sociale');
    await checkPage(page, '63-observation-cadre');
    expect(problems).toEqual([]);
  });
});
