import crypto from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createPartner, createStructure, createTeam, createUser } from '../setup/factories';
import { checkPage, launchChromium, newPage, see, serve, type Served, signIn } from './browser';
import { csrfOf } from './html';

type Agent = Awaited<ReturnType<typeof loginAs>>;
type Team = Awaited<ReturnType<typeof createTeam>>;

const DAY = 24 * 3600 * 1000;

async function insertPerson(team: Team, alias: string): Promise<string> {
  const [row] = await testKnex()('persons')
    .insert({ structure_id: team.structure.id, alias, source: 'outreach' })
    .returning('id');
  return row.id as string;
}

async function insertFollowUps(team: Team, personId: string, count: number) {
  await testKnex()('follow_ups').insert(
    Array.from({ length: count }, (_, i) => ({
      structure_id: team.structure.id,
      person_id: personId,
      assignee_id: team.worker.id,
      created_by: team.worker.id,
      title: `Suivi n°${String(i + 1).padStart(3, '0')}`,
      // From two days on: after today's Paris day whatever the hour (clock changes included).
      due_at: new Date(Date.now() + (i + 2) * DAY),
    })),
  );
}

/** Lists longer than a page say how long they are and come in pages, never cut silently. */
describe('long lists: the timeline and Mes actions in pages', () => {
  let ctx: TestContext;
  let team: Team;
  let worker: Agent;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    personId = await insertPerson(team, 'Suivi de longue date');
    const start = Date.now() - 400 * DAY;
    // 53 contacts, one a day, the newest "Contact n°53".
    await testKnex()('contacts').insert(
      Array.from({ length: 53 }, (_, i) => ({
        structure_id: team.structure.id,
        person_id: personId,
        author_id: team.worker.id,
        occurred_at: new Date(start + i * DAY),
        channel: i === 52 ? 'video' : 'phone',
        outcome: 'reached',
      })),
    );
    // 103 open follow-ups for the worker, due from tomorrow on.
    await insertFollowUps(team, personId, 103);
  });
  afterAll(async () => ctx.close());

  const timelineItems = (html: string) =>
    (/<ol class="av-list av-timeline">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '').match(/<li /g)
      ?.length ?? 0;

  it('when a person has more events than a page, then the timeline says how many and links to the next page', async () => {
    const first = await worker.get(`/personnes/${personId}`);
    expect(first.status).toBe(200);
    // 53 contacts and 103 follow-ups.
    expect(first.text).toContain('Historique (156)');
    expect(first.text).toContain('Du plus récent au plus ancien : événements 1 à 50 sur 156');
    expect(timelineItems(first.text)).toBe(50);
    expect(first.text).toContain(`href="/personnes/${personId}?page=2#historique"`);
    expect(first.text).toContain('1 / 4');

    const last = await worker.get(`/personnes/${personId}?page=4`);
    expect(last.text).toContain('événements 151 à 156 sur 156');
    expect(timelineItems(last.text)).toBe(6);
    expect(last.text).toContain(`href="/personnes/${personId}?page=3#historique"`);
    expect(last.text).not.toContain('Page suivante');
    // Newest first: the follow-ups due later fill pages 1 to 3, then the newest contact, and
    // the oldest contacts end the last page.
    const third = await worker.get(`/personnes/${personId}?page=3`);
    expect(third.text.includes('Contact · Visio')).toBe(true);
    expect(first.text.includes('Contact ·')).toBe(false);
    expect(last.text.includes('Contact · Téléphone')).toBe(true);
  });

  it('when the page number is not a number, then the page does not exist', async () => {
    expect((await worker.get(`/personnes/${personId}?page=deux`)).status).toBe(404);
    expect((await worker.get(`/personnes/${personId}?autre=1`)).status).toBe(404);
    expect((await worker.get('/?page=0')).status).toBe(404);
  });

  it('when a worker has more open follow-ups than a page, then Mes actions says how many and links to the rest', async () => {
    const first = await worker.get('/');
    expect(first.status).toBe(200);
    expect(first.text).toContain('103 suivis à faire : cette page montre les suivis 1 à 100');
    expect(first.text).toContain('Suivi n°100');
    expect(first.text).not.toContain('Suivi n°101');
    expect(first.text).toContain('href="/?page=2"');
    const second = await worker.get('/?page=2');
    expect(second.text).toContain('cette page montre les suivis 101 à 103');
    expect(second.text).toContain('Suivi n°103');
    expect(second.text).not.toContain('Suivi n°100<');
    // Completing from page 2 comes back to page 2.
    expect(second.text).toContain('name="retour" value="/?page=2"');
  });

  it('when the open follow-ups of a person exceed a page, then the file counts them all', async () => {
    const file = await worker.get(`/personnes/${personId}`);
    expect(file.text).toContain('Suivis en cours (103)');
    expect(file.text).toContain('Les plus proches : suivis 1 à 100 sur 103');
  });

  describe('in Chromium', () => {
    let served: Served;
    let browser: Browser;
    beforeAll(async () => {
      served = await serve(ctx.app);
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await served?.close();
    });

    it('the paged lists pass axe and "Page suivante" leads on', async () => {
      const problems: string[] = [];
      const page = await newPage(browser, { problems });
      await signIn(page, `${served.base}/connexion`, team.worker.email);
      await see(page.locator('main'), 'cette page montre les suivis 1 à 100');
      await checkPage(page, '21-mes-actions-pages');
      await page
        .getByRole('navigation', { name: 'Pages de mes suivis' })
        .getByRole('link', { name: 'Page suivante' })
        .click();
      await see(page.locator('main'), 'cette page montre les suivis 101 à 103');

      await page.goto(`${served.base}/personnes/${personId}`);
      await checkPage(page, '22-fiche-historique-pages');
      await page
        .getByRole('navigation', { name: 'Pages de l’historique' })
        .getByRole('link', { name: 'Page suivante' })
        .click();
      await see(page.locator('main'), 'événements 51 à 100 sur 156');
      expect(problems).toEqual([]);
    }, 120000);
  });
});

/**
 * The partner inbox and the staff's /orientations come in pages of 100, newest first, their
 * filters kept by the page links: a partner that was sent more never loses the oldest.
 */
describe('long lists: the partner inbox and /orientations in pages', () => {
  let ctx: TestContext;
  let team: Team;
  let worker: Agent;
  let partner: Agent;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    const bank = await createPartner(testKnex(), 'Banque alimentaire', team.structure.id);
    const staff = await createUser(team.structure.id, 'partner', { partnerId: bank.id });
    partner = await loginAs(ctx.app, staff.email);
    // 103 persons, each referred once to the bank under their consent, one referral a day: the
    // newest "Orienté n°103".
    const k = testKnex();
    const start = Date.now() - 400 * DAY;
    const persons = await k('persons')
      .insert(
        Array.from({ length: 103 }, (_, i) => ({
          structure_id: team.structure.id,
          alias: `Orienté n°${String(i + 1).padStart(3, '0')}`,
          source: 'outreach',
        })),
      )
      .returning(['id', 'alias']);
    persons.sort((a, b) => String(a.alias).localeCompare(String(b.alias)));
    const consents = await k('consents')
      .insert(
        persons.map((p) => ({
          structure_id: team.structure.id,
          person_id: p.id,
          purpose: 'referral',
          partner_id: bank.id,
          method: 'oral',
          given_at: new Date(start - DAY),
        })),
      )
      .returning(['id', 'person_id']);
    const consentOf = new Map(consents.map((c) => [c.person_id as string, c.id as string]));
    const reason = ctx.deps.cipher.encrypt('Besoin d’une aide alimentaire');
    await k('referrals').insert(
      persons.map((p, i) => ({
        structure_id: team.structure.id,
        person_id: p.id,
        partner_id: bank.id,
        consent_id: consentOf.get(p.id as string),
        requester_id: team.worker.id,
        status: 'requested',
        reason_enc: reason,
        created_at: new Date(start + i * DAY),
      })),
    );
  });
  afterAll(async () => ctx.close());

  const listed = (html: string) => html.match(/<li class="av-item av-item--stack">/g)?.length ?? 0;

  it('when a partner was sent more referrals than a page, then its inbox links to page 2, which lists the oldest', async () => {
    const first = await partner.get('/orientations');
    expect(first.status).toBe(200);
    expect(first.text).toContain('103 demandes');
    expect(first.text).toContain(
      'De la plus récente à la plus ancienne : demandes 1 à 100 sur 103',
    );
    expect(listed(first.text)).toBe(100);
    expect(first.text).toContain('Orienté n°103');
    expect(first.text).toContain('Orienté n°004');
    expect(first.text).not.toContain('Orienté n°003');
    expect(first.text).toContain('href="/orientations?page=2"');
    expect(first.text).toContain('1 / 2');

    const second = await partner.get('/orientations?page=2');
    expect(second.status).toBe(200);
    expect(second.text).toContain('demandes 101 à 103 sur 103');
    expect(listed(second.text)).toBe(3);
    for (const n of ['001', '002', '003']) expect(second.text).toContain(`Orienté n°${n}`);
    expect(second.text).not.toContain('Orienté n°004');
    expect(second.text).toContain('href="/orientations"');
    expect(second.text).not.toContain('Page suivante');
  });

  it('when staff filter /orientations, then the page links keep the filters', async () => {
    const first = await worker.get('/orientations?mine=true&status=requested');
    expect(first.status).toBe(200);
    expect(first.text).toContain('demandes 1 à 100 sur 103');
    expect(first.text).toContain('href="/orientations?mine=true&amp;status=requested&amp;page=2"');
    const second = await worker.get('/orientations?mine=true&status=requested&page=2');
    expect(second.status).toBe(200);
    expect(second.text).toContain('Orienté n°001');
    expect(second.text).not.toContain('Orienté n°004');
    // Another status: nothing, and no page links.
    const none = await worker.get('/orientations?status=accepted');
    expect(none.text).toContain('Aucune demande.');
    expect(none.text).not.toContain('Pages des demandes');
  });

  it('when the page is past the end or not a number, then it leads to the last page or is refused', async () => {
    const past = await partner.get('/orientations?page=9');
    expect(past.status).toBe(303);
    expect(past.headers.location).toBe('/orientations?page=2');
    const filtered = await worker.get('/orientations?status=accepted&page=2');
    expect(filtered.status).toBe(303);
    expect(filtered.headers.location).toBe('/orientations?status=accepted');
    expect((await partner.get('/orientations?page=deux')).status).toBe(400);
  });
});

describe('long lists: the notifications in pages', () => {
  let ctx: TestContext;
  let team: Team;
  let worker: Agent;

  beforeAll(async () => {
    ctx = await createTestContext();
    team = await createTeam();
    worker = await loginAs(ctx.app, team.worker.email);
    // 55 notices, one an hour, the newest "Notification n°055"; every one read but the oldest.
    const start = Date.now() - 100 * DAY;
    await testKnex()('notifications').insert(
      Array.from({ length: 55 }, (_, i) => ({
        structure_id: team.structure.id,
        recipient_id: team.worker.id,
        kind: 'follow_up.due',
        subject_type: 'follow_up',
        subject_id: crypto.randomUUID(),
        due_moment: new Date(start + i * 3600_000),
        title: `Notification n°${String(i + 1).padStart(3, '0')}`,
        link: '/',
        created_at: new Date(start + i * 3600_000),
        read_at: i === 0 ? null : new Date(start + i * 3600_000 + 60_000),
      })),
    );
  });
  afterAll(async () => ctx.close());

  const listed = (html: string) => html.match(/<li class="av-item/g)?.length ?? 0;

  it('when a user has more notifications than a page, then page 1 links to page 2, which lists the oldest with its "Marquer comme lue" button', async () => {
    const first = await worker.get('/notifications');
    expect(first.status).toBe(200);
    expect(first.text).toContain('1 notification non lue');
    expect(first.text).toContain(
      'De la plus récente à la plus ancienne : notifications 1 à 50 sur 55',
    );
    expect(listed(first.text)).toBe(50);
    expect(first.text).toContain('Notification n°055');
    expect(first.text).not.toContain('Notification n°005');
    expect(first.text).not.toContain('Marquer comme lue');
    expect(first.text).toContain('href="/notifications?page=2"');

    const second = await worker.get('/notifications?page=2');
    expect(second.status).toBe(200);
    expect(second.text).toContain('notifications 51 à 55 sur 55');
    expect(listed(second.text)).toBe(5);
    expect(second.text).toContain('Notification n°001');
    expect(second.text).toContain(
      'Marquer comme lue<span class="fr-sr-only"> : Notification n°001',
    );
    expect(second.text).not.toContain('Notification n°006');
    expect(second.text).toContain('href="/notifications"');
  });

  it('when the user shows the unread ones only, then the page lists the oldest alone, and reading it from there leads back to the same filter', async () => {
    const unread = await worker.get('/notifications?unread=true');
    expect(unread.status).toBe(200);
    expect(unread.text).toContain('Non lues seulement');
    expect(unread.text).toMatch(/id="unread"[^>]*checked/);
    expect(listed(unread.text)).toBe(1);
    expect(unread.text).toContain('Notification n°001');
    expect(unread.text).not.toContain('Pages des notifications');
    const id = /action="\/notifications\/([0-9a-f-]{36})\/lu"/.exec(unread.text)![1];

    const read = await worker
      .post(`/notifications/${id}/lu`)
      .type('form')
      .send({ _csrf: csrfOf(unread.text), page: '1', unread: 'true' });
    expect(read.status).toBe(303);
    expect(read.headers.location).toBe('/notifications?unread=true');
    const after = await worker.get('/notifications?unread=true');
    expect(after.text).toContain('Notification « Notification n°001 » marquée comme lue.');
    expect(after.text).toContain('Aucune notification non lue.');
  });

  it('when the page is past the end or not a number, then it leads to the last page or is refused', async () => {
    const past = await worker.get('/notifications?page=9');
    expect(past.status).toBe(303);
    expect(past.headers.location).toBe('/notifications?page=2');
    const filtered = await worker.get('/notifications?unread=true&page=2');
    expect(filtered.status).toBe(303);
    expect(filtered.headers.location).toBe('/notifications?unread=true');
    expect((await worker.get('/notifications?page=deux')).status).toBe(400);
  });
});

/**
 * A list shrinks while its page links stay in the browser: a page number past the last page is
 * redirected to the last page (the first when the list is empty), never an empty page saying
 * there is nothing, with no link back to the items.
 */
describe('paged pages past their last page', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => ctx.close());

  describe('Mes actions', () => {
    let team: Team;
    let worker: Agent;
    beforeAll(async () => {
      team = await createTeam();
      worker = await loginAs(ctx.app, team.worker.email);
      await insertFollowUps(team, await insertPerson(team, 'Cent un suivis'), 101);
    });

    it('when the last follow-up of page 2 is done from page 2, then page 2 leads back to page 1 with the message', async () => {
      const second = await worker.get('/?page=2');
      expect(second.status).toBe(200);
      expect(second.text).toContain('cette page montre les suivis 101 à 101');
      const id = /action="\/suivis\/([0-9a-f-]{36})"/.exec(second.text)![1];

      const done = await worker
        .post(`/suivis/${id}`)
        .type('form')
        .send({ _csrf: csrfOf(second.text), action: 'terminer', retour: '/?page=2' });
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe('/?page=2');

      const back = await worker.get('/?page=2');
      expect(back.status).toBe(303);
      expect(back.headers.location).toBe('/');
      const first = await worker.get('/');
      expect(first.status).toBe(200);
      expect(first.text).toContain('Suivi « Suivi n°101 » marqué comme fait.');
      expect(first.text).toContain('À venir (100)');
      expect(first.text).toContain('Suivi n°001');
    });

    it('when the page number is far past the end, then it leads to the last page', async () => {
      await insertFollowUps(team, await insertPerson(team, 'Encore des suivis'), 150);
      // 100 + 150 open follow-ups: three pages.
      const res = await worker.get('/?page=40');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/?page=3');
      expect((await worker.get('/?page=3')).status).toBe(200);
    });

    it('when nothing is left to do, then any later page leads to page 1', async () => {
      const idle = await createTeam();
      const agent = await loginAs(ctx.app, idle.worker.email);
      const res = await agent.get('/?page=2');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/');
      expect((await agent.get('/')).text).toContain('Rien en retard ni prévu aujourd’hui');
    });
  });

  describe('a person’s timeline', () => {
    it('when the timeline fits on one page, then its page 2 leads to page 1 of the history', async () => {
      const team = await createTeam();
      const worker = await loginAs(ctx.app, team.worker.email);
      const personId = await insertPerson(team, 'Peu d’événements');
      await insertFollowUps(team, personId, 3);
      const res = await worker.get(`/personnes/${personId}?page=2`);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`/personnes/${personId}?page=1#historique`);
      const page = await worker.get(`/personnes/${personId}?page=1`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Historique (3)');
    });

    it('when the person is out of scope, then a page past the end is still a 404, not a redirect', async () => {
      const team = await createTeam();
      const other = await createTeam();
      const stranger = await loginAs(ctx.app, other.worker.email);
      const personId = await insertPerson(team, 'Ailleurs');
      expect((await stranger.get(`/personnes/${personId}?page=9`)).status).toBe(404);
    });
  });

  describe('the persons list', () => {
    let team: Team;
    let worker: Agent;
    beforeAll(async () => {
      team = await createTeam();
      worker = await loginAs(ctx.app, team.worker.email);
      for (let i = 1; i <= 25; i += 1) await insertPerson(team, `Personne ${i}`);
    });

    it('when the list has two pages, then page 3 leads to page 2', async () => {
      const res = await worker.get('/personnes?page=3');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/personnes?page=2');
      expect((await worker.get('/personnes?page=2')).status).toBe(200);
    });

    it('when a filter narrows the list to one page, then page 2 leads to the first page', async () => {
      const list = await worker.get('/personnes');
      const search = await worker
        .post('/personnes')
        .type('form')
        // Only the persons this worker is the referent of: none here.
        .send({ _csrf: csrfOf(list.text), mes: '1' });
      expect(search.status).toBe(303);
      const res = await worker.get('/personnes?page=2');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/personnes');
    });
  });
});

/** The administration's lists of accounts come in pages too: nobody past the first page is lost. */
describe('long lists: the structure’s accounts and a partner’s accounts in pages', () => {
  // More than one page of 50 accounts, named so that "Compte 060" comes last whatever the
  // collation (the admin sorts first or last, never among them).
  const COUNT = 60;
  let ctx: TestContext;
  let admin: Agent;
  let structureId: string;

  const insertUsers = async (prefix: string, fields: Record<string, unknown>) =>
    testKnex()('users').insert(
      Array.from({ length: COUNT }, (_, i) => {
        const n = String(i + 1).padStart(3, '0');
        return {
          structure_id: structureId,
          name: `${prefix} ${n}`,
          email: `${prefix.toLowerCase()}-${n}@example.test`,
          password_hash: '!invited',
          ...fields,
        };
      }),
    );

  beforeAll(async () => {
    ctx = await createTestContext();
    structureId = (await createStructure()).id;
    admin = await loginAs(ctx.app, (await createUser(structureId, 'admin')).email);
  });
  afterAll(async () => ctx.close());

  it('when the structure has more accounts than a page, then page 1 links to page 2, which lists the last one', async () => {
    await insertUsers('Compte', { role: 'worker' });
    const first = await admin.get('/admin/utilisateurs');
    expect(first.status).toBe(200);
    expect(first.text).toContain(`Comptes de la structure (${COUNT + 1})`);
    expect(first.text).toContain('Compte 001');
    expect(first.text).not.toContain('Compte 060');
    expect(first.text).toContain('href="/admin/utilisateurs?page=2#comptes"');
    const second = await admin.get('/admin/utilisateurs?page=2');
    expect(second.status).toBe(200);
    expect(second.text).toContain('Compte 060');
    expect(second.text).not.toContain('Compte 001');
    expect((await admin.get('/admin/utilisateurs?page=9')).headers.location).toBe(
      '/admin/utilisateurs?page=2#comptes',
    );
    expect((await admin.get('/admin/utilisateurs?page=deux')).status).toBe(404);
  });

  it('when a partner has more accounts than a page, then its page 1 links to page 2, which lists the last one', async () => {
    const partner = await createPartner(testKnex(), 'Grande association', structureId);
    await insertUsers('Agent', { role: 'partner', partner_id: partner.id });
    const path = `/admin/partenaires/${partner.id}/comptes`;
    const first = await admin.get(path);
    expect(first.status).toBe(200);
    expect(first.text).toContain('Agent 001');
    expect(first.text).not.toContain('Agent 060');
    expect(first.text).toContain(`href="${path}?page=2"`);
    const second = await admin.get(`${path}?page=2`);
    expect(second.status).toBe(200);
    expect(second.text).toContain('Agent 060');
    expect(second.text).not.toContain('Agent 001');
  });
});
