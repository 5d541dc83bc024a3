import type { Actor } from '../../../server/auth/actor';
import { fixedClock } from '../../../server/lib/clock';
import { ConflictError, NotFoundError } from '../../../server/lib/errors';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createPartner, createTeam } from '../../setup/factories';
import { createFoodBank, createPerson, giveConsent, refer } from './helpers';

const rc = { ip: '127.0.0.1' };

/** Editing the directory after creation: a partner's description, adding and editing services. */
describe('partner directory editing (service)', () => {
  let ctx: TestContext;
  let admin: Actor;
  const clock = fixedClock('2026-11-24T10:00:00+01:00');

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    const team = await createTeam();
    admin = {
      id: team.admin.id,
      structureId: team.structure.id,
      role: 'admin',
      partnerId: null,
      name: team.admin.name,
      email: team.admin.email,
    };
  });
  afterAll(async () => ctx.close());

  const partners = () => ctx.deps.services.partners;
  const audit = (action: string, subjectId: string) =>
    testKnex()('audit_events').where({ action, subject_id: subjectId });

  it('when a partner is edited, then its description is replaced whole, it counts as reviewed and it is audited', async () => {
    const { partner } = await createFoodBank('Épicerie solidaire');
    await testKnex()('partners')
      .where({ id: partner.id })
      .update({ phone: '02 41 00 00 00', area: 'Angers', last_reviewed_at: '2026-01-01' });
    clock.set('2026-11-25T09:00:00+01:00');
    const { partner: p, emailChangeIssued } = await partners().update(
      admin,
      partner.id,
      {
        name: 'Épicerie solidaire du centre',
        email: 'accueil@epicerie.test',
        howToReach: 'Le lundi',
      },
      rc,
    );
    expect(emailChangeIssued).toBe(true);
    expect(p).toMatchObject({
      name: 'Épicerie solidaire du centre',
      // A new address waits for its confirmation (partner-email-change.test.ts).
      email: partner.email,
      pendingEmail: 'accueil@epicerie.test',
      howToReach: 'Le lundi',
      // Left out of the new description: cleared.
      phone: null,
      area: null,
      stale: false,
    });
    expect(new Date(p.lastReviewedAt).toISOString()).toBe('2026-11-25T08:00:00.000Z');
    expect(await audit('partner.update', partner.id)).toHaveLength(1);
  });

  it('when an unknown partner is edited, then NotFoundError and nothing is audited', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    await expect(
      partners().update(admin, id, { name: 'X', email: 'x@partner.test' }, rc),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      partners().saveService(admin, id, null, { name: 'S', themes: ['famille'] }, rc),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await audit('partner.update', id)).toHaveLength(0);
  });

  it('when an admin of another structure edits, adds a service to, edits a service of or reviews a partner, then NotFoundError as for an unknown id, and nothing changes or is audited', async () => {
    const { partner, service } = await createFoodBank('Épicerie du Lac');
    const other = await createTeam();
    const foreign: Actor = { ...admin, id: other.admin.id, structureId: other.structure.id };
    const before = await testKnex()('partners').where({ id: partner.id }).first();
    const attempts = [
      () => partners().update(foreign, partner.id, { name: 'X', email: 'x@ailleurs.test' }, rc),
      () =>
        partners().saveService(foreign, partner.id, null, { name: 'S', themes: ['famille'] }, rc),
      () =>
        partners().saveService(
          foreign,
          partner.id,
          service.id,
          { name: 'S', themes: ['famille'] },
          rc,
        ),
      () => partners().review(foreign, partner.id, rc),
      () => partners().getToEdit(foreign, partner.id),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(NotFoundError);
    expect(await testKnex()('partners').where({ id: partner.id }).first()).toEqual(before);
    expect(
      await testKnex()('partner_services').where({ partner_id: partner.id }).pluck('name'),
    ).toEqual(['Colis alimentaires']);
    expect(await testKnex()('audit_events').where({ subject_id: partner.id })).toHaveLength(0);
    // The directory still reads it for them; the owner's admin may edit it.
    expect((await partners().get(partner.id)).email).toBe(partner.email);
    expect((await partners().getToEdit(admin, partner.id)).id).toBe(partner.id);
    expect([...(await partners().editableIds(foreign))]).not.toContain(partner.id);
    expect([...(await partners().editableIds(admin))]).toContain(partner.id);
  });

  it('when a service is added, then it has its audience, area, how to reach and delay, and the creation is audited', async () => {
    const { partner } = await createFoodBank('Secours populaire');
    const p = await partners().saveService(
      admin,
      partner.id,
      null,
      {
        name: 'Vestiaire',
        themes: ['equipement-et-alimentation--habillement', 'famille'],
        audience: ['familles-enfants', 'sans-domicile-fixe'],
        area: 'Angers centre',
        howToReach: 'Sans rendez-vous le mercredi',
        responseDelayDays: 3,
      },
      rc,
    );
    expect(p.services.map((s) => s.name)).toEqual(['Colis alimentaires', 'Vestiaire']);
    expect(p.services[1]).toMatchObject({
      themes: ['equipement-et-alimentation--habillement', 'famille'],
      audience: ['familles-enfants', 'sans-domicile-fixe'],
      area: 'Angers centre',
      howToReach: 'Sans rendez-vous le mercredi',
      responseDelayDays: 3,
    });
    const [event] = await audit('partner.service.create', partner.id);
    expect(event.details).toEqual({ serviceId: p.services[1].id });
  });

  it('when a service is edited, then it is replaced whole (response delay included) and reviewed', async () => {
    const { partner, service } = await createFoodBank('Restos du cœur');
    await testKnex()('partner_services')
      .where({ id: service.id })
      .update({ audience: ['seniors-65'], area: 'Trélazé', last_reviewed_at: '2026-01-01' });
    clock.set('2026-11-26T09:00:00+01:00');
    const p = await partners().saveService(
      admin,
      partner.id,
      service.id,
      { name: 'Repas chauds', themes: ['equipement-et-alimentation'], responseDelayDays: 8 },
      rc,
    );
    expect(p.services).toHaveLength(1);
    expect(p.services[0]).toMatchObject({
      id: service.id,
      name: 'Repas chauds',
      themes: ['equipement-et-alimentation'],
      responseDelayDays: 8,
      audience: [],
      area: null,
      stale: false,
    });
    expect(new Date(p.services[0].lastReviewedAt).toISOString()).toBe('2026-11-26T08:00:00.000Z');
    expect(await audit('partner.service.update', partner.id)).toHaveLength(1);
  });

  it('when a service takes the name of another service of the partner, then ConflictError and nothing changes', async () => {
    const { partner, service } = await createFoodBank('Croix-Rouge');
    const withTwo = await partners().saveService(
      admin,
      partner.id,
      null,
      { name: 'Vestiboutique', themes: ['equipement-et-alimentation'] },
      rc,
    );
    const other = withTwo.services.find((s) => s.name === 'Vestiboutique')!;
    await expect(
      partners().saveService(
        admin,
        partner.id,
        other.id,
        { name: ' colis ALIMENTAIRES ', themes: ['famille'] },
        rc,
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      partners().saveService(
        admin,
        partner.id,
        null,
        { name: 'Vestiboutique', themes: ['famille'] },
        rc,
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    const rows = await testKnex()('partner_services')
      .where({ partner_id: partner.id })
      .orderBy('name');
    expect(rows.map((r) => [r.name, r.themes])).toEqual([
      ['Colis alimentaires', ['equipement-et-alimentation--alimentation']],
      ['Vestiboutique', ['equipement-et-alimentation']],
    ]);
    // Its own name, in other letters, is no conflict.
    const renamed = await partners().saveService(
      admin,
      partner.id,
      service.id,
      { name: 'Colis Alimentaires', themes: ['equipement-et-alimentation--alimentation'] },
      rc,
    );
    expect(renamed.services.map((s) => s.name)).toContain('Colis Alimentaires');
  });

  it('when two admins add a service of the same name at once, then one is added and the other gets ConflictError', async () => {
    const { partner } = await createFoodBank('Emmaüs');
    const results = await Promise.allSettled(
      [1, 2].map(() =>
        partners().saveService(
          admin,
          partner.id,
          null,
          { name: 'Ressourcerie', themes: ['famille'] },
          rc,
        ),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(ConflictError);
    expect(
      await testKnex()('partner_services').where({ partner_id: partner.id, name: 'Ressourcerie' }),
    ).toHaveLength(1);
  });

  it('when a service of another partner is named, then NotFoundError', async () => {
    const a = await createFoodBank('Partenaire A');
    const b = await createFoodBank('Partenaire B');
    await expect(
      partners().saveService(
        admin,
        a.partner.id,
        b.service.id,
        { name: 'Autre', themes: ['famille'] },
        rc,
      ),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect((await testKnex()('partner_services').where({ id: b.service.id }).first()).name).toBe(
      'Colis alimentaires',
    );
  });
});

/**
 * A partner user reads every referral addressed to the partner, whichever structure sent it. An
 * admin of the owner who opens an account for an address they control would read another
 * structure's people: as for a change of the partner's email (security line 30), every other
 * structure with an open referral to the partner is told, and its audit trail keeps the event.
 */
describe('opening a partner account tells the other structures whose referrals it reads', () => {
  let ctx: TestContext;
  let owner: Awaited<ReturnType<typeof createTeam>>;
  let admin: Actor;
  let partnerId: string;
  /**
   * C has an open referral to the partner; D's was cancelled and F's completed, the person's
   * consent standing; G's person revoked their consent; E never referred to it.
   */
  let c: Awaited<ReturnType<typeof createTeam>>;
  let d: typeof c;
  let e: typeof c;
  let f: typeof c;
  let g: typeof c;
  const clock = fixedClock('2026-11-24T10:00:00+01:00');

  beforeAll(async () => {
    ctx = await createTestContext({ clock });
    owner = await createTeam();
    admin = {
      id: owner.admin.id,
      structureId: owner.structure.id,
      role: 'admin',
      partnerId: null,
      name: owner.admin.name,
      email: owner.admin.email,
    };
    partnerId = (await createPartner(testKnex(), 'Épicerie des Halles', owner.structure.id)).id;
    [c, d, e, f, g] = await Promise.all([
      createTeam(),
      createTeam(),
      createTeam(),
      createTeam(),
      createTeam(),
    ]);
    for (const team of [c, d, f, g, owner]) {
      const worker = await loginAs(ctx.app, team.worker.email);
      const person = await createPerson(worker);
      const consent = await giveConsent(worker, person.id, partnerId);
      const referral = await refer(worker, person.id, partnerId);
      expect(referral.status).toBe(201);
      if (team === d) {
        const cancelled = await worker
          .post(`/api/referrals/${referral.body.id}/transitions`)
          .send({ to: 'cancelled', reason: 'La personne a déménagé' });
        expect(cancelled.status).toBe(200);
      }
      // Completed by the partner, whose users (none yet) would read it.
      if (team === f)
        await testKnex()('referrals')
          .where({ id: referral.body.id })
          .update({ status: 'completed' });
      if (team === g)
        expect((await worker.post(`/api/consents/${consent.id}/revoke`)).status).toBe(200);
    }
  });
  afterAll(async () => ctx.close());

  const noticesIn = (structureId: string) =>
    testKnex()('notifications')
      .where({ structure_id: structureId, kind: 'partner.account_opened' })
      .orderBy('created_at');
  const auditIn = (structureId: string) =>
    testKnex()('audit_events').where({
      structure_id: structureId,
      action: 'partner.account_open',
      subject_id: partnerId,
    });

  it('when the owner’s admin invites a partner user, then the managers of a structure with a referral it reads, open or closed, are told the account’s email (no person) and its audit keeps it; a structure whose person revoked their consent, or with none, is told nothing', async () => {
    const user = await ctx.deps.services.users.invite(
      admin,
      { email: 'complice@evil.test', name: 'Compte piège', role: 'partner', partnerId },
      rc,
    );

    const toC = await noticesIn(c.structure.id);
    expect(toC.map((n) => n.recipient_id)).toEqual([c.manager.id]);
    expect(toC[0]).toMatchObject({ subject_type: 'user', subject_id: user.id });
    expect(toC[0].title).toContain('complice@evil.test');
    expect(toC[0].title).toContain('Épicerie des Halles');
    for (const secret of ['Nadia', 'Benali', '06 12 34 56 78'])
      expect(`${toC[0].title} ${toC[0].body}`).not.toContain(secret);
    const audited = await auditIn(c.structure.id);
    expect(audited).toHaveLength(1);
    expect(audited[0].details).toEqual({ userId: user.id });

    for (const closed of [d, f]) {
      const notices = await noticesIn(closed.structure.id);
      expect(notices.map((n) => n.recipient_id)).toEqual([closed.manager.id]);
      expect(notices[0]).toMatchObject({ subject_type: 'user', subject_id: user.id });
      expect(await auditIn(closed.structure.id)).toHaveLength(1);
    }

    for (const quiet of [g, e, owner]) {
      expect(await noticesIn(quiet.structure.id)).toHaveLength(0);
      expect(await auditIn(quiet.structure.id)).toHaveLength(0);
    }
  });

  it('when a disabled partner user is enabled again, then the structures whose referrals it reads are told again', async () => {
    const user = await ctx.deps.services.users.invite(
      admin,
      { email: 'revenant@evil.test', name: 'Compte revenu', role: 'partner', partnerId },
      rc,
    );
    const versionOf = async () =>
      (await testKnex()('users').where({ id: user.id }).first('version')).version as number;
    await ctx.deps.services.users.update(
      admin,
      user.id,
      { disabled: true, version: await versionOf() },
      rc,
    );
    clock.advance(60_000);
    await ctx.deps.services.users.update(
      admin,
      user.id,
      { disabled: false, version: await versionOf() },
      rc,
    );

    const toC = (await noticesIn(c.structure.id)).filter((n) => n.subject_id === user.id);
    expect(toC).toHaveLength(2);
    expect(toC.every((n) => n.title.includes('revenant@evil.test'))).toBe(true);
    expect(await auditIn(c.structure.id)).toHaveLength(3);
    expect((await noticesIn(f.structure.id)).filter((n) => n.subject_id === user.id)).toHaveLength(
      2,
    );
    expect(await noticesIn(g.structure.id)).toHaveLength(0);
  });
});
