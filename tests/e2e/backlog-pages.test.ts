import crypto from 'node:crypto';
import { fixedClock } from '../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../setup/context';
import { testKnex } from '../setup/db';
import { createTeam, createUser } from '../setup/factories';
import { csrfOf, formsCheckedByTheBrowser, versionOf } from './html';

const NOW = '2026-11-25T10:00:00.000Z';

describe("manager's desk pages (clock fixed on 2026-11-25)", () => {
  let ctx: TestContext;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let personId: string;
  const followUps: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock(NOW) });
    team = await createTeam();
    const [p] = await testKnex()('persons')
      .insert({
        structure_id: team.structure.id,
        alias: 'Homme ~50 ans, médiathèque',
        source: 'outreach',
        referent_id: team.worker.id,
        created_at: NOW,
      })
      .returning('id');
    personId = p.id;
    for (const due of ['2026-11-24T09:00:00Z', '2026-11-20T09:00:00Z']) {
      const [f] = await testKnex()('follow_ups')
        .insert({
          structure_id: team.structure.id,
          person_id: personId,
          assignee_id: team.worker.id,
          title: `Relancer ${due.slice(8, 10)}`,
          due_at: due,
        })
        .returning('id');
      followUps.push(f.id);
    }
  });
  afterAll(() => ctx.close());

  it('when a manager logs in, then the home is the team backlog whose numbers link to their items', async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const home = await manager.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('<h1>Tableau de l’équipe</h1>');
    expect(home.text).toContain('<caption>Travail ouvert par personne en charge</caption>');
    const link = `/equipe/elements?groupBy=assignee&amp;key=${team.worker.id}&amp;bucket=d0_7`;
    expect(home.text).toContain(`href="${link}">2<span class="fr-sr-only">`);

    const items = await manager.get(link.replace(/&amp;/g, '&'));
    expect(items.status).toBe(200);
    expect(items.text).toContain(`En retard de 0 à 7 jours : ${team.worker.name}`);
    for (const id of followUps) expect(items.text).toContain(`value="${id}"`);
    expect(items.text).toContain('Homme ~50 ans, médiathèque');
    // The hand-on forms' choices are checked by the server, whose message a browser checking
    // them itself would never let show.
    for (const page of [home, items]) {
      expect(page.text).toMatch(/\srequired[\s/>]/);
      expect(formsCheckedByTheBrowser(page.text)).toEqual([]);
    }

    const byTeam = await manager.get('/?groupBy=team');
    expect(byTeam.status).toBe(200);
    expect(byTeam.text).toContain('<caption>Travail ouvert par équipe</caption>');
    expect((await manager.get('/?groupBy=city')).status).toBe(404);
    // The manager's own follow-ups have a page of their own.
    const mine = await manager.get('/mes-actions');
    expect(mine.status).toBe(200);
    expect(mine.text).toContain('<h1>Mes actions</h1>');
  });

  it('when an items page is opened from a backlog narrowed to a team, then its back link keeps the team', async () => {
    const admin = await loginAs(ctx.app, team.admin.email);
    const created = await admin
      .post('/api/teams')
      .send({ name: 'Équipe mobile', memberIds: [team.worker.id] });
    expect(created.status).toBe(201);
    const teamId = created.body.id as string;
    const manager = await loginAs(ctx.app, team.manager.email);
    const narrowed = await manager.get(`/?groupBy=assignee&teamId=${teamId}`);
    const link = `/equipe/elements?groupBy=assignee&amp;key=${team.worker.id}&amp;bucket=d0_7&amp;teamId=${teamId}`;
    expect(narrowed.text).toContain(`href="${link}"`);

    const items = await manager.get(link.replace(/&amp;/g, '&'));
    expect(items.status).toBe(200);
    expect(items.text).toContain(`href="/?groupBy=assignee&amp;teamId=${teamId}"`);
    // Without a team filter, the link says the whole structure: the home without a teamId at
    // all shows the manager's own teams.
    const all = await manager.get(`/equipe/elements?groupBy=team&key=${teamId}&bucket=d0_7`);
    expect(all.text).toContain('href="/?groupBy=team&amp;teamId="');
  });

  it('when a manager leading two teams opens the home, then it counts those teams’ members, not a third team’s; "teamId=" shows the whole structure', async () => {
    const admin = await loginAs(ctx.app, team.admin.email);
    const lead = await createUser(team.structure.id, 'manager', { name: 'Cadre Deux Équipes' });
    const [a, b, c] = await Promise.all(
      ['Alpha', 'Bravo', 'Charlie'].map((n) =>
        createUser(team.structure.id, 'worker', { name: `Membre ${n}` }),
      ),
    );
    await testKnex()('follow_ups').insert(
      [a, b, c].map((u) => ({
        structure_id: team.structure.id,
        person_id: personId,
        assignee_id: u.id,
        title: `Appeler pour ${u.name}`,
        due_at: '2026-11-24T09:00:00Z',
      })),
    );
    const teamOf = async (name: string, member: string, leads: string[]) => {
      const res = await admin
        .post('/api/teams')
        .send({ name, memberIds: [member], managerIds: leads });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const alpha = await teamOf('Alpha', a.id, [lead.id]);
    const bravo = await teamOf('Bravo', b.id, [lead.id]);
    const charlie = await teamOf('Charlie', c.id, []);
    const manager = await loginAs(ctx.app, lead.email);
    const tableOf = (html: string) => html.slice(html.indexOf('<table>'), html.indexOf('</table>'));

    const home = (await manager.get('/')).text;
    expect(home).toContain('Le travail ouvert de vos équipes au');
    const mine = tableOf(home);
    for (const u of [a, b])
      expect(mine).toContain(
        `key=${u.id}&amp;bucket=d0_7&amp;teamId=${alpha}&amp;teamId=${bravo}">1<`,
      );
    expect(mine).not.toContain(c.id);
    expect(mine).not.toContain(team.worker.id);
    expect(home).toMatch(new RegExp(`value="${alpha}" checked`));
    expect(home).toMatch(new RegExp(`value="${bravo}" checked`));
    expect(home).not.toMatch(new RegExp(`value="${charlie}" checked`));

    // The numbers' items are those of the same two teams, and lead back to them.
    const items = await manager.get(
      `/equipe/elements?groupBy=assignee&key=${a.id}&bucket=d0_7&teamId=${alpha}&teamId=${bravo}`,
    );
    expect(items.status).toBe(200);
    expect(items.text).toContain(`Appeler pour ${a.name}`);
    expect(items.text).toContain(
      `href="/?groupBy=assignee&amp;teamId=${alpha}&amp;teamId=${bravo}"`,
    );

    // "Toute la structure" is said with an empty teamId, the boxes' hidden field alone.
    const all = (await manager.get('/?teamId=')).text;
    expect(all).toContain('Le travail ouvert de la structure au');
    for (const u of [a, b, c, team.worker]) expect(tableOf(all)).toContain(`key=${u.id}&amp;`);
    expect(all).not.toMatch(/name="teamId" value="[^"]+" checked/);
    // One box ticked (sent with the hidden field): that team.
    const one = (await manager.get(`/?teamId=&teamId=${charlie}`)).text;
    expect(one).toContain('Le travail ouvert de l’équipe Charlie au');
    expect(tableOf(one)).toContain(`key=${c.id}&amp;bucket=d0_7&amp;teamId=${charlie}"`);
    expect(tableOf(one)).not.toContain(a.id);
    // A manager who leads no team sees the structure.
    const other = (await (await loginAs(ctx.app, team.manager.email)).get('/')).text;
    expect(other).toContain('Le travail ouvert de la structure au');
    expect(tableOf(other)).toContain(`key=${c.id}&amp;`);
  });

  it('when a file without contact is listed for its silence, then "Dernier contact" says none and when the file was created, never the creation as a contact', async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const referent = await createUser(team.structure.id, 'worker', { name: 'Référente Calme' });
    const file = async (alias: string, createdAt: string) =>
      (
        await testKnex()('persons')
          .insert({
            structure_id: team.structure.id,
            alias,
            source: 'outreach',
            referent_id: referent.id,
            created_at: createdAt,
          })
          .returning('id')
      )[0].id as string;
    const never = await file('Jamais rencontré', '2026-10-01T10:00:00Z');
    const met = await file('Rencontré en octobre', '2026-01-05T10:00:00Z');
    await testKnex()('contacts').insert({
      structure_id: team.structure.id,
      person_id: met,
      occurred_at: '2026-10-10T10:00:00Z',
      channel: 'street',
      outcome: 'reached',
    });
    const address = `groupBy=assignee&key=${referent.id}&bucket=no_contact_30&teamId=`;
    const page = (await manager.get(`/equipe/elements?${address}`)).text;
    expect(page).toContain('<th scope="col">Dernier contact</th>');
    const row = (alias: string) => {
      const at = page.indexOf(alias);
      return page.slice(at, page.indexOf('</tr>', at));
    };
    expect(row('Jamais rencontré')).toMatch(
      /<td>Aucun \(fiche créée le \w+ 1 octobre 2026\)<\/td>/,
    );
    expect(row('Rencontré en octobre')).toMatch(/<td>\w+ 10 octobre 2026<\/td>/);
    expect(row('Rencontré en octobre')).not.toContain('Aucun');

    const api = await manager.get(`/api/backlog/items?${address.replace('&teamId=', '')}`);
    expect(api.status).toBe(200);
    const items = api.body.items as Record<string, unknown>[];
    expect(items.find((i) => i.personId === never)).toMatchObject({
      lastContactAt: null,
      createdAt: '2026-10-01T10:00:00.000Z',
      noContactSince: '2026-10-01T10:00:00.000Z',
    });
    expect(items.find((i) => i.personId === met)).toMatchObject({
      lastContactAt: '2026-10-10T10:00:00.000Z',
      createdAt: '2026-01-05T10:00:00.000Z',
      noContactSince: '2026-10-10T10:00:00.000Z',
    });
  });

  it('when a worker opens the home or an items page, then "Mes actions", and the items are refused', async () => {
    const worker = await loginAs(ctx.app, team.worker.email);
    const home = await worker.get('/');
    expect(home.text).toContain('<h1>Mes actions</h1>');
    const items = await worker.get(
      `/equipe/elements?groupBy=assignee&key=${team.worker.id}&bucket=d0_7`,
    );
    expect(items.status).toBe(403);
  });

  it('when a manager selects follow-ups and hands them on, then they move and the colleague is told', async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const back = `/equipe/elements?groupBy=assignee&key=${team.worker.id}&bucket=d0_7`;
    const page = await manager.get(back);
    const res = await manager
      .post('/equipe/confier')
      .type('form')
      .send(
        `_csrf=${encodeURIComponent(csrfOf(page.text))}&ids=${followUps[0]}&toAssigneeId=${team.worker2.id}&retour=${encodeURIComponent(back)}`,
      );
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(back);
    const after = await manager.get(back);
    expect(after.text).toContain('1 suivi confié ; la personne choisie en est avertie.');
    expect((await testKnex()('follow_ups').where({ id: followUps[0] }).first()).assignee_id).toBe(
      team.worker2.id,
    );
    const told = await testKnex()('notifications').where({
      recipient_id: team.worker2.id,
      kind: 'follow_up.reassigned',
    });
    expect(told).toHaveLength(1);

    // Nothing selected: said on the page, nothing moves.
    const none = await manager
      .post('/equipe/confier')
      .type('form')
      .send({ _csrf: csrfOf(after.text), toAssigneeId: team.worker2.id, retour: back });
    expect(none.status).toBe(303);
    const said = await manager.get(back);
    expect(said.text).toContain('Choisissez au moins un suivi');
    // First in the title and focused: a screen reader hears it on arrival.
    expect(said.text).toContain(
      '<title>Erreur — Choisissez au moins un suivi et la personne à qui le confier — ',
    );
    expect(said.text).toMatch(/role="alert" tabindex="-1" autofocus/);

    // An id that is not one (a tampered form): said the same way, nothing moves, no 500.
    const tampered = await manager
      .post('/equipe/confier')
      .type('form')
      .send(
        `_csrf=${encodeURIComponent(csrfOf(said.text))}&ids=abc&ids=${followUps[1]}&toAssigneeId=${team.worker2.id}&retour=${encodeURIComponent(back)}`,
      );
    expect(tampered.status).toBe(303);
    expect((await manager.get(back)).text).toContain('Choisissez au moins un suivi');
    expect((await testKnex()('follow_ups').where({ id: followUps[1] }).first()).assignee_id).toBe(
      team.worker.id,
    );
  });

  it("when a manager hands a leaver's work to a disabled colleague, then refused; to an active one, moved with the files", async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const gone = await createUser(team.structure.id, 'worker');
    await testKnex()('users').where({ id: gone.id }).update({ disabled_at: NOW });
    const home = await manager.get('/');
    const refused = await manager
      .post('/equipe/confier-tout')
      .type('form')
      .send({
        _csrf: csrfOf(home.text),
        fromAssigneeId: team.worker.id,
        toAssigneeId: gone.id,
        referents: '1',
      });
    expect(refused.status).toBe(303);
    const again = await manager.get('/');
    expect(again.text).toContain('elle n’est pas (ou plus) active');

    const res = await manager
      .post('/equipe/confier-tout')
      .type('form')
      .send({
        _csrf: csrfOf(again.text),
        fromAssigneeId: team.worker.id,
        toAssigneeId: team.worker2.id,
        referents: '1',
      });
    expect(res.status).toBe(303);
    expect((await manager.get('/')).text).toContain(
      '1 suivi confié et 1 dossier de référent·e confié ; la personne choisie en est avertie.',
    );
    const person = await testKnex()('persons').where({ id: personId }).first();
    expect(person.referent_id).toBe(team.worker2.id);
  });

  it("when a manager hands a leaver's work on from the whole structure's backlog (/?teamId=), then they are back on it, not on their own teams'; a return elsewhere is not followed", async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const leaver = await createUser(team.structure.id, 'worker');
    for (const title of ['Rappeler le CCAS', 'Passer au foyer'])
      await testKnex()('follow_ups').insert({
        structure_id: team.structure.id,
        person_id: personId,
        assignee_id: leaver.id,
        title,
        due_at: '2026-11-30T09:00:00Z',
      });
    const home = await manager.get('/?teamId=');
    const retour = /action="\/equipe\/confier-tout"[\s\S]*?name="retour" value="([^"]*)"/
      .exec(home.text)?.[1]
      ?.replace(/&amp;/g, '&');
    expect(retour).toMatch(/^\/\?(.*&)?teamId=$/);
    const res = await manager
      .post('/equipe/confier-tout')
      .type('form')
      .send({
        _csrf: csrfOf(home.text),
        fromAssigneeId: leaver.id,
        toAssigneeId: team.worker2.id,
        retour,
      });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(retour);
    const back = await manager.get(res.headers.location);
    expect(back.text).toContain('2 suivis confiés');
    expect(back.text).toContain(`name="retour" value="${retour!.replace(/&/g, '&amp;')}"`);

    for (const elsewhere of ['/admin', 'https://example.org/?teamId=', '//example.org/'])
      expect(
        (
          await manager
            .post('/equipe/confier-tout')
            .type('form')
            .send({
              _csrf: csrfOf(back.text),
              fromAssigneeId: leaver.id,
              toAssigneeId: leaver.id,
              retour: elsewhere,
            })
        ).headers.location,
      ).toBe('/');
  });

  it('when a leaver holds no open follow-up but is still référent of active files, then "Travail de" offers them; files all closed, not', async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const disabled = await createUser(team.structure.id, 'worker', { name: 'Parti Désactivé' });
    const observer = await createUser(team.structure.id, 'worker', { name: 'Devenu Observateur' });
    const closedOnly = await createUser(team.structure.id, 'worker', { name: 'Dossiers Clos' });
    for (const [u, closed] of [
      [disabled, false],
      [observer, false],
      [closedOnly, true],
    ] as const)
      await testKnex()('persons').insert({
        structure_id: team.structure.id,
        alias: `Suivi par ${u.name}`,
        source: 'outreach',
        referent_id: u.id,
        created_at: NOW,
        ...(closed ? { closed_at: NOW, closed_reason: 'moved' } : {}),
      });
    await testKnex()('users')
      .whereIn('id', [disabled.id, closedOnly.id])
      .update({ disabled_at: NOW });
    await testKnex()('users').where({ id: observer.id }).update({ role: 'observer' });

    const home = (await manager.get('/')).text;
    const from = home.slice(home.indexOf('id="fromAssigneeId"'));
    const leavers = from.slice(0, from.indexOf('</select>'));
    expect(leavers).toContain(`<option value="${disabled.id}">Parti Désactivé (inactif)</option>`);
    expect(leavers).toContain(
      `<option value="${observer.id}">Devenu Observateur (inactif)</option>`,
    );
    // Active staff are offered unmarked.
    expect(leavers).toContain(`<option value="${team.worker2.id}">${team.worker2.name}</option>`);
    expect(leavers).not.toContain(closedOnly.id);
    // Neither may receive work.
    const to = home.slice(home.indexOf('id="toAssigneeId"'));
    expect(to.slice(0, to.indexOf('</select>'))).not.toContain(disabled.id);
  });

  it('when a leaver still holds overdue work, then their row of the backlog says "(inactif)"; an active colleague’s does not', async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const gone = await createUser(team.structure.id, 'worker', { name: 'Jeanne Partie' });
    await testKnex()('follow_ups').insert({
      structure_id: team.structure.id,
      person_id: personId,
      assignee_id: gone.id,
      title: 'Rappeler la mairie',
      due_at: '2026-11-23T09:00:00Z',
    });
    await testKnex()('users').where({ id: gone.id }).update({ disabled_at: NOW });
    const home = (await manager.get('/?teamId=')).text;
    const table = home.slice(home.indexOf('<table>'), home.indexOf('</table>'));
    expect(table).toContain('<th scope="row">Jeanne Partie (inactif)</th>');
    expect(table).toContain(`<th scope="row">${team.worker2.name}</th>`);
    const api = await manager.get('/api/backlog');
    const groups = api.body.groups as { key: string; active: boolean | null }[];
    expect(groups.find((g) => g.key === gone.id)?.active).toBe(false);
    expect(groups.find((g) => g.key === team.worker2.id)?.active).toBe(true);
    const byTeam = await manager.get('/api/backlog').query({ groupBy: 'team' });
    expect(
      (byTeam.body.groups as { active: boolean | null }[]).every((g) => g.active === null),
    ).toBe(true);
  });

  it("when a leaver's files alone are handed on from the page, then the flash says so and the new référent is told; when nothing moves, the flash says nothing was sent", async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const leaver = await createUser(team.structure.id, 'worker', { name: 'Léa Partie' });
    const recipient = await createUser(team.structure.id, 'worker');
    await testKnex()('persons').insert(
      ['Femme, parvis', 'Homme, quai'].map((alias) => ({
        structure_id: team.structure.id,
        alias,
        source: 'outreach',
        referent_id: leaver.id,
        created_at: NOW,
      })),
    );
    await testKnex()('users').where({ id: leaver.id }).update({ disabled_at: NOW });
    const send = async () =>
      manager
        .post('/equipe/confier-tout')
        .type('form')
        .send({
          _csrf: csrfOf((await manager.get('/')).text),
          fromAssigneeId: leaver.id,
          toAssigneeId: recipient.id,
          referents: '1',
        });

    expect((await send()).status).toBe(303);
    const moved = (await manager.get('/')).text;
    expect(moved).toContain(
      '2 dossiers de référent·e confiés ; la personne choisie en est avertie.',
    );
    expect(moved).not.toContain('0 suivi');
    const told = await testKnex()('notifications').where({ recipient_id: recipient.id });
    expect(told.map((n) => n.kind)).toEqual(['person.referent_reassigned']);
    expect(told[0].title).toContain('2 dossiers');

    expect((await send()).status).toBe(303);
    expect((await manager.get('/')).text).toContain(
      'Rien n’a été confié : aucun suivi ouvert ni dossier à reprendre. Personne n’a été averti.',
    );
    expect(await testKnex()('notifications').where({ recipient_id: recipient.id })).toHaveLength(1);
  });

  it("when a leaver's open and closed files are handed on from the page, then the flash counts the open ones apart; an anonymised file is not counted", async () => {
    const manager = await loginAs(ctx.app, team.manager.email);
    const leaver = await createUser(team.structure.id, 'worker', { name: 'Paul Parti' });
    const recipient = await createUser(team.structure.id, 'worker');
    await testKnex()('persons').insert(
      [{}, { closed_at: NOW, closed_reason: 'moved' }, { anonymised_at: NOW }].map((state) => ({
        structure_id: team.structure.id,
        alias: 'Suivi par Paul',
        source: 'outreach',
        referent_id: leaver.id,
        created_at: NOW,
        ...state,
      })),
    );
    const res = await manager
      .post('/equipe/confier-tout')
      .type('form')
      .send({
        _csrf: csrfOf((await manager.get('/')).text),
        fromAssigneeId: leaver.id,
        toAssigneeId: recipient.id,
        referents: '1',
      });
    expect(res.status).toBe(303);
    expect((await manager.get('/')).text).toContain(
      '2 dossiers de référent·e confiés, dont 1 actif ; la personne choisie en est avertie.',
    );
  });

  it('when a user marks all notifications as read from the page, then none is left unread', async () => {
    const worker2 = await loginAs(ctx.app, team.worker2.email);
    const page = await worker2.get('/notifications');
    expect(page.text).toContain('Tout marquer comme lu');
    const res = await worker2
      .post('/notifications/tout-lu')
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(res.status).toBe(303);
    const after = await worker2.get('/notifications');
    expect(after.text).toContain('Tout est lu.');
    expect(after.text).not.toContain('Tout marquer comme lu</button>');
  });

  it('when a notice arrives after the page was shown, then "Tout marquer comme lu" leaves it unread, and the page says so', async () => {
    const worker2 = await loginAs(ctx.app, team.worker2.email);
    const notice = (title: string, createdAt?: Date) =>
      testKnex()('notifications')
        .insert({
          structure_id: team.structure.id,
          recipient_id: team.worker2.id,
          kind: 'follow_up.due',
          subject_type: 'follow_up',
          subject_id: crypto.randomUUID(),
          due_moment: NOW,
          title,
          ...(createdAt ? { created_at: createdAt } : {}),
        })
        .returning('id');
    const anHourAgo = new Date(Date.now() - 3600_000);
    await notice('Vue sur la page 1', anHourAgo);
    await notice('Vue sur la page 2', anHourAgo);
    const page = await worker2.get('/notifications');
    expect(page.text).toContain('2 notifications non lues');
    expect(page.text).toMatch(/name="avant" value="[^"]+"/);
    const [late] = await notice('Arrivée après la page');

    const res = await worker2
      .post('/notifications/tout-lu')
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        avant: /name="avant" value="([^"]+)"/.exec(page.text)![1],
        page: '1',
      });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/notifications');
    const unread = await testKnex()('notifications')
      .where({ recipient_id: team.worker2.id })
      .whereNull('read_at')
      .pluck('id');
    expect(unread).toEqual([late.id]);
    const after = await worker2.get('/notifications');
    expect(after.text).toContain(
      '2 notifications marquées comme lues. 1 notification arrivée depuis l’affichage de la page reste non lue.',
    );
    expect(after.text).toContain('1 notification non lue');
  });

  it("when a person's référent changes with the box ticked, then their open follow-ups held by the former one move too; unticked, they stay", async () => {
    const worker = await loginAs(ctx.app, team.worker.email);
    const plan = async (pid: string) => {
      const r = await worker
        .post(`/api/persons/${pid}/follow-ups`)
        .send({ title: 'Visite', dueAt: '2026-12-01T09:00:00Z' });
      return r.body.id as string;
    };
    const edit = async (pid: string, extra: Record<string, string>) => {
      const page = (await worker.get(`/personnes/${pid}/modifier`)).text;
      expect(page).toContain('id="moveFollowUps"');
      return worker
        .post(`/personnes/${pid}/modifier`)
        .type('form')
        .send({
          _csrf: csrfOf(page),
          version: versionOf(page),
          alias: 'Femme, quai Ligny',
          source: 'outreach',
          referentId: team.worker2.id,
          ...extra,
        });
    };
    const person = async () =>
      (await worker.post('/api/persons').send({ alias: 'Femme, quai Ligny', source: 'outreach' }))
        .body.id as string;

    const ticked = await person();
    const f1 = await plan(ticked);
    const res = await edit(ticked, { moveFollowUps: '1' });
    expect(res.status).toBe(303);
    expect((await worker.get(`/personnes/${ticked}`)).text).toContain(
      '1 suivi ouvert est confié au nouveau ou à la nouvelle référent·e',
    );
    expect((await testKnex()('follow_ups').where({ id: f1 }).first()).assignee_id).toBe(
      team.worker2.id,
    );

    const unticked = await person();
    const f2 = await plan(unticked);
    expect((await edit(unticked, {})).status).toBe(303);
    expect((await testKnex()('follow_ups').where({ id: f2 }).first()).assignee_id).toBe(
      team.worker.id,
    );
    expect((await testKnex()('persons').where({ id: unticked }).first()).referent_id).toBe(
      team.worker2.id,
    );
  });

  it('when a worker marks a follow-up done from "Mes actions", then the message offers to undo it, and undoing reopens it', async () => {
    const worker = await loginAs(ctx.app, team.worker.email);
    const p = await worker.post('/api/persons').send({ alias: 'Annulable', source: 'outreach' });
    const f = await worker
      .post(`/api/persons/${p.body.id}/follow-ups`)
      .send({ title: 'Appeler la CAF', dueAt: '2026-12-01T09:00:00Z' });
    const home = await worker.get('/');
    const done = await worker
      .post(`/suivis/${f.body.id}`)
      .type('form')
      .send({ _csrf: csrfOf(home.text), action: 'terminer', retour: '/', note: 'Dossier déposé' });
    expect(done.status).toBe(303);
    const after = await worker.get('/');
    expect(after.text).toContain('Suivi « Appeler la CAF » marqué comme fait.');
    expect(after.text).toContain('Annuler : rouvrir « Appeler la CAF »');
    expect(after.text).toContain('name="action" value="rouvrir"');
    const file = await worker.get(`/personnes/${p.body.id}`);
    expect(file.text).toContain('Dossier déposé');
    const undo = await worker
      .post(`/suivis/${f.body.id}`)
      .type('form')
      .send({ _csrf: csrfOf(after.text), action: 'rouvrir', retour: '/' });
    expect(undo.status).toBe(303);
    expect((await worker.get('/')).text).toContain('Suivi « Appeler la CAF » rouvert.');
    expect((await testKnex()('follow_ups').where({ id: f.body.id }).first()).status).toBe('open');
  });
});
