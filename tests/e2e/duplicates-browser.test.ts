import type { Browser, Locator, Page } from 'playwright-core';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import {
  atPath,
  checkPage,
  launchChromium,
  newPage as openPage,
  see as seeWithShot,
  serve,
  type Served,
  signIn as signInAt,
} from './browser';

const see = (locator: Locator, text: string | RegExp) =>
  seeWithShot(locator, text, 'failure-doublons');

const PHONE = { width: 375, height: 740 };

/**
 * Possible duplicates in a real browser on a phone-size screen: the intake offers the person
 * already known ("Déjà connu·e ?"); the worker opens that file, or goes on and records a new
 * one; a manager then merges the two files. Each page is checked with axe.
 */
describe('possible duplicates in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let knownId: string;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    served = await serve(ctx.app);
    browser = await launchChromium();
    const api = await loginAs(ctx.app, team.worker.email);
    const known = await api.post('/api/persons').send({
      firstName: 'Hélène',
      lastName: 'Lefèvre',
      birthYear: 1962,
      place: 'quai de Ligny',
      source: 'outreach',
    });
    knownId = known.body.id;
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  const signIn = (page: Page, path: string, email: string) =>
    signInAt(page, `${served.base}${path}`, email);

  async function typeIntake(page: Page, fields: Record<string, string>) {
    await page.goto(`${served.base}/personnes/nouvelle`);
    await see(page.getByRole('heading', { level: 1 }), 'Nouvelle personne');
    for (const [label, value] of Object.entries(fields)) {
      await page.getByLabel(new RegExp(`^${label}`)).fill(value);
    }
    await page.getByRole('button', { name: 'Enregistrer la personne' }).click();
  }

  const persons = async () => Number((await testKnex()('persons').count('* as n'))[0].n);

  it('a worker typing a known person is offered the file and opens it; nothing new is recorded', async () => {
    const page = await openPage(browser, { ...PHONE, problems });
    page.setDefaultTimeout(10000);
    await signIn(page, '/personnes/nouvelle', team.worker.email);
    const before = await persons();
    await typeIntake(page, {
      Prénom: 'Helene',
      Nom: 'Lefebvre',
      'Lieu de rencontre': 'quai Ligny',
      'Année de naissance': '1962',
    });
    const offer = page.locator('#deja-connu');
    await see(offer.getByRole('heading', { level: 2 }), 'Déjà connu·e ?');
    await see(
      offer,
      /Pourquoi : nom proche, lieu proche \(quai de Ligny\), même année de naissance/,
    );
    // What was typed is still there.
    expect(await page.getByLabel(/^Nom/).inputValue()).toBe('Lefebvre');
    expect(await page.getByLabel(/^Lieu de rencontre/).inputValue()).toBe('quai Ligny');
    await checkPage(page, 'doublons-proposes');

    await offer.getByRole('link', { name: /Hélène Lefèvre/ }).click();
    await atPath(page, `/personnes/${knownId}`);
    await see(page.getByRole('heading', { level: 1 }), 'Hélène Lefèvre');
    expect(await persons()).toBe(before);
    expect(problems).toEqual([]);
  }, 120000);

  it('a worker sure it is someone else goes on and records the new file; a manager then merges the two', async () => {
    const page = await openPage(browser, { ...PHONE, problems });
    page.setDefaultTimeout(10000);
    await signIn(page, '/personnes/nouvelle', team.worker.email);
    await typeIntake(page, {
      'Surnom ou description': 'Mme Lefebre',
      'Lieu de rencontre': 'quai Ligny',
      Téléphone: '06 98 76 54 32',
    });
    await see(page.locator('#deja-connu'), 'Déjà connu·e ?');
    await page.getByRole('button', { name: 'Ce n’est pas la même personne : enregistrer' }).click();
    await see(page.getByRole('status'), 'La personne est enregistrée');
    await see(page.getByRole('heading', { level: 1 }), 'Mme Lefebre');
    const newId = new URL(page.url()).pathname.split('/').pop()!;
    expect(newId).not.toBe(knownId);
    await checkPage(page, 'doublons-nouvelle-fiche');

    // The manager, on a phone too, merges the new file into the one known before.
    const mgr = await openPage(browser, { ...PHONE, problems });
    mgr.setDefaultTimeout(10000);
    await signIn(mgr, `/personnes/${newId}`, team.manager.email);
    await mgr.getByRole('link', { name: 'Fusionner avec une autre fiche' }).click();
    await see(mgr.getByRole('heading', { level: 1 }), 'Fusionner la fiche de Mme Lefebre');
    await checkPage(mgr, 'fusion-choix');
    await mgr.getByRole('link', { name: /Comparer avec cette fiche : Hélène Lefèvre/ }).click();
    await see(mgr.getByRole('table'), 'quai de Ligny');
    await checkPage(mgr, 'fusion-comparaison');
    // The DSFR draws the radio on its label, which takes the tap.
    await mgr.locator('label[for="garder-autre"]').click();
    expect(await mgr.getByLabel(/^L’autre fiche/).isChecked()).toBe(true);
    await mgr.getByRole('button', { name: 'Fusionner les deux fiches' }).click();
    await atPath(mgr, `/personnes/${knownId}`);
    await see(mgr.getByRole('status'), 'Les deux fiches sont fusionnées');
    await see(mgr.getByRole('heading', { level: 1 }), 'Hélène Lefèvre (Mme Lefebre)');
    await checkPage(mgr, 'fusion-faite');
    const merged = await mgr.goto(`${served.base}/personnes/${newId}`);
    expect(merged?.status()).toBe(404);
    expect(problems).toEqual([]);
  }, 120000);
});
