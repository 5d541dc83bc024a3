import type { Browser } from 'playwright-core';
import { fixedClock } from '../../server/lib/clock';
import { totpCode } from '../../server/features/two-factor/totp';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createTeam, createUser } from '../setup/factories';
import {
  atPath,
  checkPage,
  launchChromium,
  newPage,
  see,
  serve,
  type Served,
  signIn,
} from './browser';

/**
 * In a real browser: a manager whose structure requires a second factor is sent to enrol after
 * the password, enrols from the key shown beside the QR code, keeps the recovery codes, and logs
 * in again in two steps; a partner user creates an API token. Each page passes axe.
 */
describe('second factor and API tokens, in the browser', () => {
  const clock = fixedClock('2026-11-24T10:00:00+01:00');
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let team: Awaited<ReturnType<typeof createTeam>>;
  const problems: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    team = await createTeam();
    served = await serve(ctx.app);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
  });

  it('a manager is sent to enrol, enrols, sees the recovery codes, then logs in with the code', async () => {
    const admin = await loginAs(ctx.app, team.admin.email);
    const { version } = (await admin.get('/api/settings')).body;
    await admin.patch('/api/settings').send({ version, requireTwoFactor: true }).expect(200);

    const page = await newPage(browser, { problems });
    const logIn = async () => {
      await signIn(page, `${served.base}/connexion`, team.manager.email);
    };
    await logIn();
    await atPath(page, '/mon-compte/double-authentification');
    await see(page.getByRole('alert'), 'Votre structure demande la double authentification');
    await checkPage(page, '90-double-authentification-exigee');

    await page.getByRole('button', { name: 'Activer la double authentification' }).click();
    await see(page.locator('main'), 'saisissant à la main cette clé');
    expect(await page.getByRole('img', { name: /QR code/ }).isVisible()).toBe(true);
    const secret = (await page.locator('code.av-secret').textContent()) ?? '';
    await checkPage(page, '91-double-authentification-qr');
    await page
      .getByLabel('Code à 6 chiffres')
      .fill('000000' === totpCode(secret, clock.now()) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Activer', exact: true }).click();
    await see(page.getByRole('alert'), 'Ce code est incorrect');
    await checkPage(page, '92-double-authentification-erreur');
    await page.getByLabel('Code à 6 chiffres').fill(totpCode(secret, clock.now()));
    await page.getByRole('button', { name: 'Activer', exact: true }).click();
    await see(page.getByRole('heading', { level: 1 }), 'Vos codes de secours');
    expect(await page.locator('.av-recovery-codes li').count()).toBe(10);
    await checkPage(page, '93-codes-de-secours');
    await page.getByRole('link', { name: 'J’ai noté mes codes' }).click();
    await see(page.locator('main'), '10 codes de secours inutilisés');

    // Log out, then in again: the code is asked after the password.
    await page.context().clearCookies();
    clock.advance(30_000);
    await logIn();
    await atPath(page, '/connexion/code');
    await checkPage(page, '94-connexion-code');
    await page.getByLabel('Code').fill(totpCode(secret, clock.now()));
    await page.getByRole('button', { name: 'Valider' }).click();
    await atPath(page, '/');
    expect(problems).toEqual([]);
    // Three sign-ins (argon2) and five pages checked with axe: like the other journeys, a
    // bound for a loaded two-core machine, not the default 30 s.
  }, 120000);

  it('a partner user creates an API token on the account page and sees it once', async () => {
    const partner = await createPartner(testKnex(), 'Épicerie solidaire', team.structure.id);
    const user = await createUser(team.structure.id, 'partner', { partnerId: partner.id });
    const page = await newPage(browser, { problems });
    await signIn(page, `${served.base}/connexion`, user.email);
    await atPath(page, '/orientations');
    await page.goto(`${served.base}/mon-compte`);
    await checkPage(page, '95-mon-compte-partenaire');
    await page.getByRole('link', { name: 'Gérer les jetons d’accès' }).click();
    await atPath(page, '/mon-compte/jetons');
    await page.getByLabel('Nom du jeton').fill('Logiciel de l’épicerie');
    await page.getByLabel('Durée de validité').selectOption('90');
    await page.getByRole('button', { name: 'Créer le jeton' }).click();
    await see(page.getByRole('status'), 'est créé');
    expect(await page.locator('code.av-secret').textContent()).toMatch(/^av_/);
    await checkPage(page, '96-jetons-cree');
    await page.getByRole('button', { name: 'Révoquer le jeton Logiciel de l’épicerie' }).click();
    await see(page.getByRole('status'), 'Le jeton est révoqué');
    await see(page.locator('main'), 'Aucun jeton');
    expect(problems).toEqual([]);
  }, 60000);
});
