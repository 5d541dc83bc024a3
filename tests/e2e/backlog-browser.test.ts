import type { Browser, Locator } from 'playwright-core';
import { fixedClock } from '../../server/lib/clock';
import { createTestContext, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam, createUser } from '../setup/factories';
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

const NOW = '2026-11-25T10:00:00.000Z';
const see = (locator: Locator, text: string | RegExp) =>
  seeWithShot(locator, text, 'failure-equipe');

/**
 * The manager's desk in a real browser: the backlog at login, a number leading to its items,
 * a leaver's work handed to a colleague, who is told. Each page checked with axe.
 */
describe("the manager's desk in the browser", () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let leaver: Awaited<ReturnType<typeof createUser>>;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    team = await createTeam();
    leaver = await createUser(team.structure.id, 'worker', { name: 'Léa Départ' });
    const [p] = await testKnex()('persons')
      .insert({
        structure_id: team.structure.id,
        alias: 'Femme ~40 ans, gare routière',
        source: 'outreach',
        referent_id: leaver.id,
        created_at: NOW,
      })
      .returning('id');
    for (const [title, due] of [
      ['Relancer la CAF', '2026-11-20T09:00:00Z'],
      ['Visite à domicile', '2026-10-01T09:00:00Z'],
    ]) {
      await testKnex()('follow_ups').insert({
        structure_id: team.structure.id,
        person_id: p.id,
        assignee_id: leaver.id,
        title,
        due_at: due,
      });
    }
    served = await serve(ctx.app);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  it("a manager logs in on the team's backlog, opens a number's items, and hands a leaver's work to a colleague, who is told", async () => {
    const page = await openPage(browser, { problems });
    await signIn(page, `${served.base}/connexion`, team.manager.email);
    await see(page.getByRole('heading', { level: 1 }), 'Tableau de l’équipe');
    await see(page.locator('table'), 'Léa Départ');
    await checkPage(page, '30-tableau-equipe');

    await page.getByRole('link', { name: /^1 : en retard de 0 à 7 jours, Léa Départ/ }).click();
    await see(page.getByRole('heading', { level: 1 }), 'En retard de 0 à 7 jours : Léa Départ');
    await see(page.locator('table'), 'Relancer la CAF');
    await checkPage(page, '31-elements-equipe');

    await page.getByRole('link', { name: 'Tableau de l’équipe' }).first().click();
    // Sent without a choice, the server's message comes back focused and first in the title
    // (the browser's own bubble would have stopped the form).
    await page.getByRole('button', { name: 'Confier le travail' }).click();
    await see(page.getByRole('alert'), 'Choisissez deux personnes différentes');
    expect(await focusIsOn(page, '.fr-alert--error[role="alert"]')).toBe(true);
    expect(await page.title()).toMatch(/^Erreur — Choisissez deux personnes différentes : /);
    await checkPage(page, '31b-tableau-equipe-sans-choix');

    await page.getByLabel('Travail de').selectOption({ label: 'Léa Départ' });
    await page.getByLabel('À confier à').selectOption({ label: team.worker2.name });
    await page.getByRole('button', { name: 'Confier le travail' }).click();
    await see(
      page.getByRole('status'),
      '2 suivis confiés et 1 dossier de référent·e confié ; la personne choisie en est avertie.',
    );
    expect(await page.title()).toBe(
      '2 suivis confiés et 1 dossier de référent·e confié ; la personne choisie en est avertie — Tableau de l’équipe — aller-vers',
    );
    await checkPage(page, '32-tableau-equipe-confie');

    const colleague = await openPage(browser, { problems });
    await signIn(colleague, `${served.base}/connexion`, team.worker2.email);
    await colleague.goto(`${served.base}/notifications`);
    await see(colleague.locator('main'), `2 suivis vous ont été confiés par ${team.manager.name}`);
    // Both follow-ups are of one file; the notice names no person (retention could not clear
    // it): the page it links to does.
    await see(colleague.locator('main'), 'Pour 1 personne : retrouvez-les dans « Mes actions ».');
    expect(await colleague.locator('main').textContent()).not.toContain('gare routière');
    await see(
      colleague.locator('main'),
      `Vous êtes désormais référent·e d’un dossier, confié par ${team.manager.name}`,
    );
    await colleague.getByRole('button', { name: 'Tout marquer comme lu' }).click();
    await see(colleague.getByRole('status'), '2 notifications marquées comme lues');
    await checkPage(colleague, '33-notifications-tout-lu');
    expect(problems).toEqual([]);
  }, 60000);
});
