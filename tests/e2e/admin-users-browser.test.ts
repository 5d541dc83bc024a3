import type { Browser } from 'playwright-core';
import { processDeadline } from '../../jobs/processor';
import { processors } from '../../jobs/registry';
import { USER_PASSWORD_EMAIL } from '../../server/features/users/password-links';
import { createTestContext, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam } from '../setup/factories';
import { startSmtp } from '../integration/referrals/smtp';
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
 * An admin invites a worker in a real browser; the email reaches a real SMTP server; the
 * invitee opens the link, chooses a password and lands on "Mes actions". Each page passes axe.
 */
describe('an admin invites a user, in the browser', () => {
  let ctx: TestContext;
  let served: Served;
  let browser: Browser;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let team: Awaited<ReturnType<typeof createTeam>>;
  const problems: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({ env: { SMTP_URL: smtp.url } });
    team = await createTeam();
    await testKnex()('teams').insert({ structure_id: team.structure.id, name: 'Équipe mobile' });
    served = await serve(ctx.app);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await ctx?.close();
    await smtp?.close();
  });

  it('the admin invites, the invitee sets a password through the emailed link and signs in', async () => {
    const page = await newPage(browser, { problems });
    await signIn(page, `${served.base}/connexion`, team.admin.email);
    await atPath(page, '/admin');
    await checkPage(page, '60-admin-accueil');

    await page.getByRole('link', { name: 'Utilisateurs' }).first().click();
    await atPath(page, '/admin/utilisateurs');
    await page.getByLabel('Nom et prénom').fill('Inès Recrue');
    await page.getByLabel('Adresse électronique').fill('ines.recrue');
    await page.getByRole('button', { name: 'Envoyer l’invitation' }).click();
    await see(page.getByRole('alert'), 'Adresse électronique');
    expect(await focusIsOn(page, '.av-error-summary')).toBe(true);
    expect(await page.getByLabel('Nom et prénom').inputValue()).toBe('Inès Recrue');
    await checkPage(page, '61-admin-invitation-erreur');
    await page.getByLabel('Adresse électronique').fill('ines.recrue@ccas.test');
    await page.locator('label', { hasText: 'Équipe mobile' }).click();
    await page.getByRole('button', { name: 'Envoyer l’invitation' }).click();
    await see(page.getByRole('status'), 'Invitation envoyée à ines.recrue@ccas.test');
    await see(page.locator('main'), 'Invitation en attente');
    await checkPage(page, '62-admin-utilisateur');

    // The other admin pages pass axe too.
    await page.goto(`${served.base}/admin/equipes`);
    await see(page.getByRole('heading', { level: 1 }), 'Équipes');
    await checkPage(page, '64-admin-equipes');
    await page.goto(`${served.base}/admin/parametres`);
    await page.getByLabel('Fin de la journée de travail').fill('07:00');
    await page.getByRole('button', { name: 'Enregistrer les paramètres' }).click();
    await see(page.getByRole('alert'), 'Fin de la journée de travail');
    await checkPage(page, '65-admin-parametres-erreur');

    // The worker delivers the email.
    const [d] = await testKnex()('deadlines').where({
      kind: USER_PASSWORD_EMAIL,
      status: 'pending',
    });
    await processDeadline(ctx.deps, processors, USER_PASSWORD_EMAIL, d.id);
    const [email] = await smtp.waitFor(1);
    const url = /(http\S+\/mot-de-passe\/[A-Za-z0-9_-]{43})/.exec(email.text)![1];
    const path = new URL(url).pathname;

    const invitee = await newPage(browser, { problems });
    await invitee.goto(`${served.base}${path}`);
    await see(invitee.getByRole('heading', { level: 1 }), 'Choisir votre mot de passe');
    await checkPage(invitee, '63-choisir-mot-de-passe');
    await invitee.getByLabel('Nouveau mot de passe').fill('cheval agrafe batterie correcte 42');
    await invitee
      .getByLabel('Confirmez le mot de passe')
      .fill('cheval agrafe batterie correcte 42');
    await invitee.getByRole('button', { name: 'Enregistrer mon mot de passe' }).click();
    await atPath(invitee, '/connexion');
    await see(invitee.getByRole('status'), 'Votre mot de passe est enregistré');
    await invitee.getByLabel('Adresse électronique').fill('ines.recrue@ccas.test');
    await invitee.getByLabel('Mot de passe').fill('cheval agrafe batterie correcte 42');
    await invitee.getByRole('button', { name: 'Se connecter' }).click();
    await atPath(invitee, '/');
    await see(invitee.getByRole('heading', { level: 1 }), 'Mes actions');
    expect(problems).toEqual([]);
  }, 90000);
});
