import type { Browser, Locator } from 'playwright-core';
import { fixedClock } from '../../server/lib/clock';
import { PERSON_SOURCES } from '../../server/features/persons/person-schemas';
import { createTestContext, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import {
  checkPage,
  launchChromium,
  newPage as openPage,
  see as seeWithShot,
  serve,
  signIn,
  type Served,
} from './browser';
import { freePort } from '../setup/ports';

const NOW = '2026-12-07T09:00:00.000Z';
const see = (locator: Locator, text: string | RegExp) =>
  seeWithShot(locator, text, 'failure-signalement');

/**
 * Citizen participation in a real browser: a resident reports someone from a phone and keeps a
 * receipt; a worker finds it in the triage queue and turns it into a new person file; the
 * observer's dashboard counts it, shown as "< 5" until the threshold. Each page checked with axe.
 * One browser, few page loads.
 */
describe('a report from a phone to a person file, in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  const problems: string[] = [];

  beforeAll(async () => {
    // The public form is guarded by the same-origin check: the app must know its own address.
    const port = await freePort();
    ctx = await createTestContext({
      clock: fixedClock(NOW),
      env: { PUBLIC_URL: `http://127.0.0.1:${port}` },
    });
    team = await createTeam();
    // Five people met this year from every other source, four from earlier citizen reports: the
    // report triaged below is the fifth, the structure's threshold.
    await testKnex()('persons').insert(
      PERSON_SOURCES.flatMap((source) =>
        Array.from({ length: source === 'citizen_report' ? 4 : 5 }, (_, i) => ({
          structure_id: team.structure.id,
          alias: `${source} ${i}`,
          source,
          created_at: '2026-10-01T10:00:00Z',
        })),
      ),
    );
    served = await serve(ctx.app, port);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  it('a resident reports on a phone and gets a receipt; a worker triages it into a new person; the observer’s dashboard moves', async () => {
    const observer = await openPage(browser, { problems });
    await signIn(observer, `${served.base}/?by=source`, team.observer.email);
    await see(observer.getByRole('heading', { level: 1 }), 'Observation sociale');
    const citizenReports = observer
      .locator('table', { has: observer.locator('caption', { hasText: 'Personnes repérées' }) })
      .getByRole('row', { name: /Signalement citoyen/ })
      .locator('td')
      .first();
    await see(citizenReports, '< 5');

    const phone = await openPage(browser, { width: 390, height: 844, problems });
    await phone.goto(`${served.base}/signaler/${team.structure.slug}`);
    await see(phone.getByRole('heading', { level: 1 }), 'Signaler une personne en difficulté');
    await see(phone.locator('#vos-donnees'), 'Ce que nous faisons de ces informations');
    // The honeypot is out of sight and out of the accessibility tree.
    expect(await phone.locator('#website').isVisible()).toBe(false);
    await checkPage(phone, '40-signaler-telephone');

    await phone.getByLabel('Où ?').fill('Banc du jardin des Plantes, près du kiosque');
    await phone.getByLabel('Qui ?').fill('Homme ~60 ans, béret');
    await phone
      .getByLabel('Qu’est-ce qui vous inquiète ?')
      .fill('Il semble perdu, dort sur le banc depuis trois nuits.');
    await phone.getByRole('button', { name: 'Envoyer le signalement' }).click();
    await see(phone.getByRole('status'), 'Merci, votre signalement est envoyé');
    const receipt = (await phone.locator('.av-receipt').textContent())!.trim();
    expect(receipt).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    await checkPage(phone, '41-signalement-recu');

    const desk = await openPage(browser, { problems });
    await signIn(desk, `${served.base}/connexion`, team.worker.email);
    await see(desk.getByRole('heading', { level: 1 }), 'Mes actions');
    await desk.getByRole('link', { name: 'Signalements' }).first().click();
    await see(desk.locator('main'), `Signalement ${receipt}`);
    await desk.getByRole('link', { name: `Signalement ${receipt}` }).click();
    await see(desk.getByRole('heading', { level: 1 }), `Signalement ${receipt}`);
    await see(desk.locator('main'), 'Il semble perdu, dort sur le banc depuis trois nuits.');
    await checkPage(desk, '42-signalement-tri');

    await desk.getByRole('button', { name: 'Créer la fiche' }).click();
    await see(desk.getByRole('status'), `Fiche créée à partir du signalement ${receipt}.`);
    await see(desk.getByRole('heading', { level: 1 }), 'Homme ~60 ans, béret');
    expect(new URL(desk.url()).pathname).toMatch(/^\/personnes\/[0-9a-f-]{36}$/);
    await checkPage(desk, '43-signalement-fiche-creee');

    // The dashboard reads the hourly snapshot: until the next refresh it still shows "< 5".
    await observer.reload();
    await see(citizenReports, /^< 5$/);
    // The hourly refresh runs (what the observation.refresh deadline does): the fifth person
    // from a citizen report makes the count show.
    await ctx.deps.knex.transaction((trx) =>
      ctx.deps.services.observation.refreshStructure(trx, team.structure.id, new Date(NOW)),
    );
    await observer.reload();
    await see(citizenReports, /^5$/);
    await checkPage(observer, '44-observation-signalements');
    expect(problems).toEqual([]);
  }, 60000);
});
