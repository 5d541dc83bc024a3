import type { Browser, Page } from 'playwright-core';
import { createTestContext, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam } from '../setup/factories';
import { createFoodBank } from '../integration/referrals/helpers';
import {
  atPath,
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
 * The admin directory in a real browser: a partner's description, adding a service with its
 * publics and delay, editing a service; another structure's admin sees its partners read only.
 * Each page and refused form passes axe.
 */
describe('admin partner pages in the browser', () => {
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

  /** The DSFR draws a checkbox on its label, which is what a user clicks. */
  const tick = (page: Page, id: string) => page.locator(`label[for="${id}"]`).click();

  it('an admin edits a partner, adds a service with publics and delay, then edits that service', async () => {
    const { partner } = await createFoodBank('Banque alimentaire de l’Anjou');
    const page = await newPage(browser, { problems });
    await signIn(page, `${served.base}/connexion`, team.admin.email);
    // An admin lands on the administration's home; the directory is in the menu.
    await atPath(page, '/admin');
    await page
      .getByRole('navigation', { name: 'Menu principal' })
      .getByRole('link', { name: 'Partenaires' })
      .click();
    await atPath(page, '/admin/partenaires');
    await checkPage(page, '23-admin-partenaires');

    await page
      .getByRole('link', { name: 'Modifier Banque alimentaire de l’Anjou et ses services' })
      .click();
    await atPath(page, `/admin/partenaires/${partner.id}`);
    await page.getByLabel('Zone d’intervention').fill('Angers et agglomération');
    await page.getByLabel('Comment le joindre').fill('Permanence le mardi matin');
    await page.getByRole('button', { name: 'Enregistrer le partenaire' }).click();
    await see(page.getByRole('status'), 'Partenaire enregistré.');
    await checkPage(page, '24-admin-partenaire');

    await page.getByRole('link', { name: 'Ajouter un service' }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Ajouter un service');
    // Sent without a theme: the summary takes the focus and names the field.
    await page.getByLabel('Nom du service').fill('Épicerie solidaire');
    await page.getByLabel('Délai de réponse (jours ouvrés)').fill('3');
    await page.getByRole('button', { name: 'Enregistrer le service' }).click();
    await see(page.getByRole('alert'), 'Thématiques : Cochez au moins une thématique');
    expect(await focusIsOn(page, '.av-error-summary')).toBe(true);
    expect(await page.getByLabel('Délai de réponse (jours ouvrés)').inputValue()).toBe('3');
    await checkPage(page, '25-admin-service-erreur');
    await tick(page, 'service-themes-equipement-et-alimentation');
    await tick(page, 'service-audience-familles-enfants');
    await page.getByRole('button', { name: 'Enregistrer le service' }).click();
    await see(page.getByRole('status'), 'Service « Épicerie solidaire » ajouté.');
    await see(page.locator('main'), 'Services (2)');
    await see(page.locator('main'), 'pour : Familles et enfants');

    await page.getByRole('link', { name: 'Modifier le service « Épicerie solidaire »' }).click();
    await see(
      page.getByRole('heading', { level: 1 }),
      'Modifier le service « Épicerie solidaire »',
    );
    expect(await page.locator('#service-audience-familles-enfants').isChecked()).toBe(true);
    await checkPage(page, '26-admin-service');
    await page.getByLabel('Délai de réponse (jours ouvrés)').fill('7');
    await page.getByRole('button', { name: 'Enregistrer le service' }).click();
    await see(page.getByRole('status'), 'Service « Épicerie solidaire » enregistré.');
    await see(page.locator('main'), 'Réponse sous 7 jours ouvrés');
    const row = await testKnex()('partner_services')
      .where({ partner_id: partner.id, name: 'Épicerie solidaire' })
      .first();
    expect(row).toMatchObject({
      response_delay_days: 7,
      themes: ['equipement-et-alimentation'],
      audience: ['familles-enfants'],
    });

    // On a phone, the service form fits the screen.
    const phone = await newPage(browser, { width: 375, height: 740, problems });
    await phone.context().addCookies(await page.context().cookies());
    await phone.goto(`${served.base}/admin/partenaires/${partner.id}/services/nouveau`);
    const overflow = await phone.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await checkPage(phone, '27-admin-service-mobile');
    expect(problems).toEqual([]);
  }, 120000);

  it('another structure’s admin sees this structure’s partners read only, beside their own, and their edit pages are not found', async () => {
    const other = await createTeam();
    await createPartner(testKnex(), 'Épicerie solidaire de Trélazé', other.structure.id);
    const angers = await createPartner(testKnex(), 'Restos du cœur d’Angers', team.structure.id);
    const page = await newPage(browser, { problems });
    await signIn(page, `${served.base}/connexion`, other.admin.email);
    // An admin lands on the administration's home; the directory is in the menu.
    await atPath(page, '/admin');
    await page
      .getByRole('navigation', { name: 'Menu principal' })
      .getByRole('link', { name: 'Partenaires' })
      .click();
    await atPath(page, '/admin/partenaires');
    const own = page.getByRole('region', { name: /Partenaires de votre structure/ });
    const others = page.getByRole('region', { name: /Partenaires tenus par d’autres structures/ });
    await see(own, 'Épicerie solidaire de Trélazé');
    await see(others, 'Restos du cœur d’Angers');
    expect(
      await own
        .getByRole('link', { name: 'Modifier Épicerie solidaire de Trélazé et ses services' })
        .count(),
    ).toBe(1);
    expect(await others.getByRole('link').count()).toBe(0);
    expect(await others.getByRole('button').count()).toBe(0);
    await checkPage(page, '23b-admin-partenaires-autres-structures');

    const res = await page.goto(`${served.base}/admin/partenaires/${angers.id}`);
    expect(res?.status()).toBe(404);
    await see(page.getByRole('heading', { level: 1 }), 'Page introuvable');
    expect(problems).toEqual([]);
  }, 60000);
});
