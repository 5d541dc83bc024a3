import request from 'supertest';
import { processDeadline } from '../../../jobs/processor';
import { processors } from '../../../jobs/registry';
import {
  PARTNER_EMAIL_CHANGED,
  PARTNER_EMAIL_CONFIRM,
  PARTNER_EMAIL_PATH_PREFIX,
} from '../../../server/features/partners/partner-email-changes';
import {
  REFERRAL_EMAIL_PARTNER,
  REFERRAL_REMIND_PARTNER,
} from '../../../server/features/referrals/referral-schemas';
import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { csrfOf } from '../../e2e/html';
import { createPerson, giveConsent, refer, referralWorld, type Agent } from './helpers';
import { linkIn, startSmtp } from './smtp';

type World = Awaited<ReturnType<typeof referralWorld>>;

/**
 * Security line 30: an admin of the structure owning a partner changed its email and received
 * another structure's referral emails. A new address now receives nothing until it confirms,
 * and the old address and every structure with an open referral to the partner are told.
 */
describe('changing where a partner’s emails go', () => {
  const clock = fixedClock('2026-12-01T09:00:00Z'); // a Tuesday, 10:00 in Paris
  let ctx: TestContext;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let w: World;
  let oldEmail: string;
  /** Structure C refers a person to the partner (open); structure D's referral is closed. */
  let c: { team: Awaited<ReturnType<typeof createTeam>>; worker: Agent; referralId: string };
  let d: typeof c;

  beforeAll(async () => {
    smtp = await startSmtp();
    ctx = await createTestContext({ clock, env: { SMTP_URL: smtp.url } });
    w = await referralWorld(ctx.app);
    oldEmail = w.food.partner.email;
    [c, d] = await Promise.all(
      [0, 1].map(async () => {
        const team = await createTeam();
        const worker = await loginAs(ctx.app, team.worker.email);
        const person = await createPerson(worker);
        await giveConsent(worker, person.id, w.food.partner.id);
        const referral = await refer(worker, person.id, w.food.partner.id);
        expect(referral.status).toBe(201);
        return { team, worker, referralId: referral.body.id as string };
      }),
    );
    const cancelled = await d.worker
      .post(`/api/referrals/${d.referralId}/transitions`)
      .send({ to: 'cancelled', reason: 'La personne a déménagé' });
    expect(cancelled.status).toBe(200);
  });
  afterAll(async () => {
    await ctx.close();
    await smtp.close();
  });

  const pendingOf = (kind: string, subjectId?: string) =>
    testKnex()('deadlines')
      .where({ kind, status: 'pending', ...(subjectId ? { subject_id: subjectId } : {}) })
      .orderBy('created_at');
  const storedEmail = async () =>
    (await testKnex()('partners').where({ id: w.food.partner.id }).first('email')).email as string;
  const sentTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));
  const tokenIn = (text: string) =>
    new RegExp(`${PARTNER_EMAIL_PATH_PREFIX}([A-Za-z0-9_-]{43})`).exec(text)![1];

  /** Opens the confirmation page of a link and confirms it with its form. */
  async function confirm(token: string) {
    const agent = request.agent(ctx.app);
    const page = await agent.get(`${PARTNER_EMAIL_PATH_PREFIX}${token}`);
    if (page.status !== 200) return page;
    return agent
      .post(`${PARTNER_EMAIL_PATH_PREFIX}${token}`)
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
  }

  it('when the owner’s admin changes the email by API, then the confirmed address stays, the new one is only pending, and another structure’s referral email still goes to the confirmed address', async () => {
    const res = await w.agents.admin
      .put(`/api/partners/${w.food.partner.id}`)
      .send({ name: w.food.partner.name, email: 'attaquant@evil.test' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: oldEmail, pendingEmail: 'attaquant@evil.test' });
    expect(await storedEmail()).toBe(oldEmail);

    // Structure C's referral email goes out now: to the confirmed address only.
    const [referralEmail] = await pendingOf(REFERRAL_EMAIL_PARTNER, c.referralId);
    await processDeadline(ctx.deps, processors, REFERRAL_EMAIL_PARTNER, referralEmail.id);
    expect(smtp.received.at(-1)!.to).toEqual([oldEmail]);

    // The new address gets the confirmation link, and nothing about anyone followed.
    const [confirmation] = await pendingOf(PARTNER_EMAIL_CONFIRM);
    await processDeadline(ctx.deps, processors, PARTNER_EMAIL_CONFIRM, confirmation.id);
    const toNew = sentTo('attaquant@evil.test');
    expect(toNew).toHaveLength(1);
    expect(toNew[0].text).toContain(PARTNER_EMAIL_PATH_PREFIX);
    for (const secret of ['Nadia', 'Benali', '06 12 34 56 78', 'alimentaire urgent'])
      expect(toNew[0].text + toNew[0].html).not.toContain(secret);
  });

  it('when a second change is asked, then the first link stops working and only the latest address can confirm', async () => {
    const first = tokenIn(sentTo('attaquant@evil.test')[0].text);
    const res = await w.agents.admin
      .put(`/api/partners/${w.food.partner.id}`)
      .send({ name: w.food.partner.name, email: 'accueil@banque.test' });
    expect(res.body.pendingEmail).toBe('accueil@banque.test');
    expect((await confirm(first)).status).toBe(404);
    expect(await storedEmail()).toBe(oldEmail);
  });

  it('when the new address confirms, then the email changes, the old address is told and the managers of each structure with an open referral are notified', async () => {
    const [confirmation] = await pendingOf(PARTNER_EMAIL_CONFIRM);
    await processDeadline(ctx.deps, processors, PARTNER_EMAIL_CONFIRM, confirmation.id);
    const token = tokenIn(sentTo('accueil@banque.test')[0].text);

    const done = await confirm(token);
    expect(done.status).toBe(200);
    expect(done.text).toContain('accueil@banque.test');
    expect(await storedEmail()).toBe('accueil@banque.test');
    const read = await w.agents.worker.get(`/api/partners/${w.food.partner.id}`);
    expect(read.body).toMatchObject({ email: 'accueil@banque.test', pendingEmail: null });

    // The old address is told, by email.
    const [notice] = await pendingOf(PARTNER_EMAIL_CHANGED);
    await processDeadline(ctx.deps, processors, PARTNER_EMAIL_CHANGED, notice.id);
    const toOld = sentTo(oldEmail).at(-1)!;
    expect(toOld.subject).toMatch(/adresse/i);
    expect(toOld.text).toContain('accueil@banque.test');

    // Structure C (open referral) is told in the app; D (closed referral) is not.
    const notified = (structureId: string) =>
      testKnex()('notifications').where({
        structure_id: structureId,
        kind: 'partner.email_changed',
        subject_id: w.food.partner.id,
      });
    const toC = await notified(c.team.structure.id);
    expect(toC.map((n) => n.recipient_id)).toEqual([c.team.manager.id]);
    expect(toC[0].title).toContain('accueil@banque.test');
    expect(await notified(d.team.structure.id)).toHaveLength(0);
    const audited = await testKnex()('audit_events').where({
      structure_id: c.team.structure.id,
      action: 'partner.email_change',
      subject_id: w.food.partner.id,
    });
    expect(audited).toHaveLength(1);
  });

  it('when a link is used again, then 410 and nothing changes', async () => {
    const token = tokenIn(sentTo('accueil@banque.test')[0].text);
    const again = await request(ctx.app).get(`${PARTNER_EMAIL_PATH_PREFIX}${token}`);
    expect(again.status).toBe(410);
  });

  it('when a link is older than 48 hours, then 410 and the address does not change', async () => {
    const res = await w.agents.admin
      .put(`/api/partners/${w.food.partner.id}`)
      .send({ name: w.food.partner.name, email: 'tardif@banque.test' });
    expect(res.status).toBe(200);
    const [confirmation] = await pendingOf(PARTNER_EMAIL_CONFIRM);
    await processDeadline(ctx.deps, processors, PARTNER_EMAIL_CONFIRM, confirmation.id);
    const token = tokenIn(sentTo('tardif@banque.test')[0].text);
    clock.advance(49 * 3600 * 1000);
    try {
      expect((await request(ctx.app).get(`${PARTNER_EMAIL_PATH_PREFIX}${token}`)).status).toBe(410);
      expect(await storedEmail()).toBe('accueil@banque.test');
    } finally {
      clock.advance(-49 * 3600 * 1000);
    }
  });

  it('when the admin page changes the email, then the page says it waits for confirmation and the address stays', async () => {
    const page = await w.agents.admin.get(`/admin/partenaires/${w.food.partner.id}`);
    const res = await w.agents.admin
      .post(`/admin/partenaires/${w.food.partner.id}`)
      .type('form')
      .send({ _csrf: csrfOf(page.text), name: w.food.partner.name, email: 'page@banque.test' });
    expect(res.status).toBe(303);
    const after = await w.agents.admin.get(`/admin/partenaires/${w.food.partner.id}`);
    expect(after.text).toContain('page@banque.test');
    expect(after.text).toMatch(/en attente de confirmation/i);
    expect(await storedEmail()).toBe('accueil@banque.test');
  });

  it('when the admin withdraws a mistyped pending address, then its link answers as unknown, the address stays, and an edit meanwhile does not claim a link was sent', async () => {
    const path = `/admin/partenaires/${w.food.partner.id}`;
    // The link to the address the page asked for above ("page@banque.test") is out.
    const [confirmation] = (await pendingOf(PARTNER_EMAIL_CONFIRM)).slice(-1);
    await processDeadline(ctx.deps, processors, PARTNER_EMAIL_CONFIRM, confirmation.id);
    const token = tokenIn(sentTo('page@banque.test')[0].text);

    // Another edit keeps the confirmed address: no new link, and the flash says none.
    const page = await w.agents.admin.get(path);
    const edit = await w.agents.admin
      .post(path)
      .type('form')
      .send({
        _csrf: csrfOf(page.text),
        name: w.food.partner.name,
        email: 'accueil@banque.test',
        description: 'Ouvert le mardi',
      });
    expect(edit.status).toBe(303);
    const edited = await w.agents.admin.get(path);
    expect(edited.text).toContain('Partenaire enregistré.');
    expect(edited.text).not.toContain('un lien lui est envoyé');
    expect(edited.text).toMatch(/page@banque\.test en attente de confirmation/);
    expect(await pendingOf(PARTNER_EMAIL_CONFIRM)).toHaveLength(0);
    expect(edited.text).toContain('Retirer cette adresse');

    const withdrawn = await w.agents.admin
      .post(`${path}/adresse-en-attente/retrait`)
      .type('form')
      .send({ _csrf: csrfOf(edited.text) });
    expect(withdrawn.status).toBe(303);
    expect(withdrawn.headers.location).toBe(path);
    const after = await w.agents.admin.get(path);
    expect(after.text).toContain(
      'Nouvelle adresse page@banque.test retirée : son lien de confirmation ne fonctionne plus.',
    );
    expect(after.text).not.toContain('en attente de confirmation');
    expect(after.text).not.toContain('Retirer cette adresse');

    // The link answers as an unknown one (404), and nothing changed.
    expect((await request(ctx.app).get(`${PARTNER_EMAIL_PATH_PREFIX}${token}`)).status).toBe(404);
    expect(await storedEmail()).toBe('accueil@banque.test');
    const read = await w.agents.worker.get(`/api/partners/${w.food.partner.id}`);
    expect(read.body).toMatchObject({ email: 'accueil@banque.test', pendingEmail: null });
    const audited = await testKnex()('audit_events').where({
      structure_id: w.team.structure.id,
      action: 'partner.email_change.withdraw',
      subject_id: w.food.partner.id,
    });
    expect(audited).toHaveLength(1);
    expect(JSON.stringify(audited[0].details)).not.toContain('page@banque.test');
  });

  it('when an admin withdraws the pending address by API, then it is gone; a worker may not; nothing pending changes nothing', async () => {
    const url = `/api/partners/${w.food.partner.id}/pending-email`;
    const put = await w.agents.admin
      .put(`/api/partners/${w.food.partner.id}`)
      .send({ name: w.food.partner.name, email: 'api@banque.test' });
    expect(put.body.pendingEmail).toBe('api@banque.test');
    expect((await w.agents.worker.delete(url)).status).toBe(403);

    const res = await w.agents.admin.delete(url);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: 'accueil@banque.test', pendingEmail: null });
    const again = await w.agents.admin.delete(url);
    expect(again.status).toBe(200);
    expect(again.body.pendingEmail).toBeNull();
    const audited = await testKnex()('audit_events').where({
      action: 'partner.email_change.withdraw',
      subject_id: w.food.partner.id,
    });
    expect(audited).toHaveLength(2);
    const [confirmation] = await pendingOf(PARTNER_EMAIL_CONFIRM);
    await processDeadline(ctx.deps, processors, PARTNER_EMAIL_CONFIRM, confirmation.id);
    expect(sentTo('api@banque.test')).toHaveLength(0);
  });

  it('when the new address was confirmed, then the link sent to the old address answers expired and moves nothing, the old address is told, and the next reminder brings a fresh link to the new one', async () => {
    // Structure C's first email went to the old address, before the change (first test).
    const sent = sentTo(oldEmail).find((m) => m.text.includes('/partenaires/reponse/'))!;
    const old = linkIn(sent);
    const seen = await request(ctx.app).get(old.path);
    expect(seen.status).toBe(410);
    expect(seen.text).toContain('Ce lien a expiré');
    const answered = await request(ctx.app).post(old.path).type('form').send({ action: 'accept' });
    expect(answered.status).toBe(410);
    const row = await testKnex()('referrals').where({ id: c.referralId }).first('status');
    expect(row.status).toBe('requested');

    const notice = sentTo(oldEmail).find((m) => /a changé/.test(m.subject))!;
    expect(notice.text).toContain(
      'Les liens de réponse envoyés jusqu’ici à cette adresse ne fonctionnent plus',
    );

    // The referral still waits: its reminder goes to the new address with a link that works.
    const [reminder] = await pendingOf(REFERRAL_REMIND_PARTNER, c.referralId);
    await processDeadline(ctx.deps, processors, REFERRAL_REMIND_PARTNER, reminder.id);
    const fresh = smtp.received.at(-1)!;
    expect(fresh.to).toEqual(['accueil@banque.test']);
    const link = linkIn(fresh);
    expect(link.token).not.toBe(old.token);
    expect((await request(ctx.app).get(link.path)).status).toBe(200);
  });

  it('when a new address is confirmed while an email with a link is on its way to the old one, then that link is written expired', async () => {
    const person = await createPerson(c.worker);
    await giveConsent(c.worker, person.id, w.food.partner.id);
    const referral = await refer(c.worker, person.id, w.food.partner.id);
    const [email] = await pendingOf(REFERRAL_EMAIL_PARTNER, referral.body.id);
    await w.agents.admin
      .put(`/api/partners/${w.food.partner.id}`)
      .send({ name: w.food.partner.name, email: 'course@banque.test' });
    const [confirmation] = await pendingOf(PARTNER_EMAIL_CONFIRM);
    await processDeadline(ctx.deps, processors, PARTNER_EMAIL_CONFIRM, confirmation.id);
    const token = tokenIn(sentTo('course@banque.test')[0].text);

    // The email to the current address is held by the SMTP server while the new one confirms.
    const held = smtp.hold();
    const sending = processDeadline(ctx.deps, processors, REFERRAL_EMAIL_PARTNER, email.id);
    await held.arrived;
    try {
      expect((await confirm(token)).status).toBe(200);
    } finally {
      held.release();
    }
    await sending;
    const inFlight = smtp.received.at(-1)!;
    expect(inFlight.to).toEqual(['accueil@banque.test']);
    expect((await request(ctx.app).get(linkIn(inFlight).path)).status).toBe(410);
    expect(await storedEmail()).toBe('course@banque.test');
  });

  describe('a withdrawal and a confirmation at the same moment', () => {
    /** A transaction of its own, and its backend's pid, to hold rows as another request would. */
    async function holder() {
      const trx = await testKnex().transaction();
      const { rows } = await trx.raw<{ rows: { pid: number }[] }>('SELECT pg_backend_pid() AS pid');
      return { trx, pid: rows[0].pid };
    }

    /** Until a backend waits for a lock `pid` holds. */
    async function blockedBy(pid: number): Promise<void> {
      for (;;) {
        const { rows } = await testKnex().raw<{ rows: unknown[] }>(
          'SELECT pid FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))',
          [pid],
        );
        if (rows.length) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    async function pendingChange(email: string): Promise<string> {
      const put = await w.agents.admin
        .put(`/api/partners/${w.food.partner.id}`)
        .send({ name: w.food.partner.name, email });
      expect(put.body.pendingEmail).toBe(email);
      return (
        await testKnex()('partner_email_changes')
          .where({ partner_id: w.food.partner.id, new_email: email })
          .first('id')
      ).id as string;
    }

    it('when the withdrawal deadlocks with a transaction holding the change and waiting for the partner, then PostgreSQL aborts it, it is run again and answers 200, never 500', async () => {
      const changeId = await pendingChange('verrou@banque.test');
      const other = await holder();
      try {
        // This side never checks for the deadlock first: the withdrawal is the one aborted.
        await other.trx.raw("SET LOCAL deadlock_timeout = '10s'");
        await other.trx('partner_email_changes').where({ id: changeId }).forUpdate().first('id');
        const withdrawal = w.agents.admin
          .delete(`/api/partners/${w.food.partner.id}/pending-email`)
          .then((r) => r);
        // The withdrawal holds the partner's row and waits for the change's.
        await blockedBy(other.pid);
        await other.trx('partners').where({ id: w.food.partner.id }).forUpdate().first('id');
        await other.trx.rollback();
        const res = await withdrawal;
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ email: 'course@banque.test', pendingEmail: null });
      } finally {
        if (!other.trx.isCompleted()) await other.trx.rollback();
      }
      const change = await testKnex()('partner_email_changes').where({ id: changeId }).first();
      expect(change.revoked_at).not.toBeNull();
      const audited = await testKnex()('audit_events').where({
        action: 'partner.email_change.withdraw',
        subject_id: w.food.partner.id,
      });
      expect(audited.filter((e) => e.details.changeIds.includes(changeId))).toHaveLength(1);
    });

    it('when a confirmation waits for the partner row, then it holds no lock on its change meanwhile: the partner first, then the change, as a withdrawal takes them', async () => {
      const changeId = await pendingChange('ordre@banque.test');
      const [confirmation] = await pendingOf(PARTNER_EMAIL_CONFIRM, changeId);
      await processDeadline(ctx.deps, processors, PARTNER_EMAIL_CONFIRM, confirmation.id);
      const token = tokenIn(sentTo('ordre@banque.test')[0].text);
      const other = await holder();
      try {
        // A withdrawal under way holds the partner's row.
        await other.trx('partners').where({ id: w.food.partner.id }).forUpdate().first('id');
        const confirming = confirm(token);
        await blockedBy(other.pid);
        // Meanwhile the change's row is free for the withdrawal to take: no cycle.
        await testKnex().transaction((t) =>
          t.raw('SELECT id FROM partner_email_changes WHERE id = ? FOR UPDATE NOWAIT', [changeId]),
        );
        await other.trx.rollback();
        expect((await confirming).status).toBe(200);
      } finally {
        if (!other.trx.isCompleted()) await other.trx.rollback();
      }
      expect(await storedEmail()).toBe('ordre@banque.test');
    });
  });
});
