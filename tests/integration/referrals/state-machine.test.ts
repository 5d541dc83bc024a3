import { createTestContext, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import {
  ACTOR_FOR,
  REASON_REQUIRED,
  REFERRAL_STATUSES,
  TRANSITIONS,
  type ReferralStatus,
} from '../../../server/features/referrals/referral-state';
import { createPerson, driveTo, giveConsent, refer, referralWorld, type Agent } from './helpers';

type World = Awaited<ReturnType<typeof referralWorld>>;

/** A reason that suits the target: a rejection code, free text, or none for a move taking none. */
const reasonFor = (to: ReferralStatus) =>
  to === 'rejected' ? 'no_capacity' : REASON_REQUIRED.includes(to) ? 'Raison donnée' : undefined;

describe('referral state machine, transition by transition', () => {
  let ctx: TestContext;
  let w: World;
  let personId: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    w = await referralWorld(ctx.app);
    personId = (await createPerson(w.agents.worker)).id;
    await giveConsent(w.agents.worker, personId, w.food.partner.id);
  });
  afterAll(async () => ctx.close());

  const move = (agent: Agent, id: string, to: string, extra: Record<string, unknown> = {}) =>
    agent.post(`/api/referrals/${id}/transitions`).send({ to, ...extra });

  /** Drives a new referral to the status through the real API (or the system, for expired). */
  async function referralIn(status: ReferralStatus): Promise<string> {
    const created = await refer(w.agents.worker, personId, w.food.partner.id);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await driveTo(ctx, w, id, status);
    return id;
  }

  /** The allowed actor of a target, and the actors who must be refused with 403. */
  function actorsFor(to: Exclude<ReferralStatus, 'requested'>): {
    allowed: Agent[];
    refused: [string, Agent][];
  } {
    switch (ACTOR_FOR[to]) {
      case 'partner':
        return {
          allowed: [w.agents.partner],
          refused: [
            ['the requesting worker', w.agents.worker],
            ['a manager', w.agents.manager],
          ],
        };
      case 'requester_or_manager':
        return {
          allowed: [w.agents.worker, w.agents.manager],
          refused: [
            ['the partner', w.agents.partner],
            ['a worker who did not make the referral', w.agents.worker2],
          ],
        };
      case 'system':
        return {
          allowed: [],
          refused: [
            ['the partner', w.agents.partner],
            ['a manager', w.agents.manager],
          ],
        };
    }
  }

  const valid = REFERRAL_STATUSES.flatMap((from) =>
    TRANSITIONS[from].map((to) => [from, to] as const),
  );

  describe.each(valid)('%s → %s', (from, to) => {
    const target = to as Exclude<ReferralStatus, 'requested'>;

    if (ACTOR_FOR[target] !== 'system') {
      it('when the allowed actor moves it, then 200 and the event is kept', async () => {
        for (const agent of actorsFor(target).allowed) {
          const id = await referralIn(from);
          const res = await move(agent, id, to, { reason: reasonFor(to) });
          expect(res.status).toBe(200);
          expect(res.body.status).toBe(to);
          const events = (res.body.events as { fromStatus: string; toStatus: string }[]).map(
            (e) => `${e.fromStatus}>${e.toStatus}`,
          );
          expect(events[events.length - 1]).toBe(`${from}>${to}`);
        }
      });
    } else {
      it('when the system moves it, then it is expired and the requester is told', async () => {
        const id = await referralIn(from);
        const ok = await testKnex().transaction((trx) =>
          ctx.deps.services.referrals.expire(trx, id),
        );
        expect(ok).toBe(true);
        const res = await w.agents.worker.get(`/api/referrals/${id}`);
        expect(res.body.status).toBe('expired');
        expect(res.body.events.at(-1)).toMatchObject({
          fromStatus: 'requested',
          toStatus: 'expired',
          actorKind: 'system',
          reasonCode: 'sla_passed',
        });
        const n = await testKnex()('notifications').where({
          subject_id: id,
          kind: 'referral.expired',
        });
        expect(n).toHaveLength(1);
      });
    }

    it('when a refused actor tries it, then 403 and nothing changes', async () => {
      const id = await referralIn(from);
      for (const [, agent] of actorsFor(target).refused) {
        const res = await move(agent, id, to, { reason: reasonFor(to) });
        expect(res.status).toBe(403);
      }
      const after = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(after.body.status).toBe(from);
    });

    if (REASON_REQUIRED.includes(to) && ACTOR_FOR[target] !== 'system') {
      it('when the reason is missing, then 400 naming the reason', async () => {
        const id = await referralIn(from);
        const res = await move(actorsFor(target).allowed[0], id, to);
        expect(res.status).toBe(400);
        expect(res.body.error.details[0].field).toBe('reason');
        if (to === 'rejected') {
          const free = await move(actorsFor(target).allowed[0], id, to, { reason: 'pas envie' });
          expect(free.status).toBe(400);
        }
      });
    }

    if (!REASON_REQUIRED.includes(to) && ACTOR_FOR[target] !== 'system') {
      it('when a reason is given with this move, which takes none, then 400 naming the reason (not_taken) and nothing changes', async () => {
        const id = await referralIn(from);
        const events = () => testKnex()('referral_events').where({ referral_id: id }).count();
        const before = await events();
        const res = await move(actorsFor(target).allowed[0], id, to, { reason: 'x' });
        expect(res.status).toBe(400);
        expect(res.body.error.details[0]).toMatchObject({ field: 'reason', code: 'not_taken' });
        expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe(from);
        expect(await events()).toEqual(before);
      });
    }
  });

  const invalid = REFERRAL_STATUSES.flatMap((from) =>
    REFERRAL_STATUSES.filter(
      (to) => to !== 'requested' && to !== 'expired' && !TRANSITIONS[from].includes(to),
    ).map((to) => [from, to] as const),
  );

  it.each(invalid)(
    'when the allowed actor moves a %s referral to %s, then 409 (invalid transition)',
    async (from, to) => {
      const id = await referralIn(from);
      const agent = actorsFor(to as Exclude<ReferralStatus, 'requested'>).allowed[0];
      const res = await move(agent, id, to, { reason: reasonFor(to) });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('invalid_transition');
      expect(res.body.error.details).toMatchObject({ from, to });
    },
  );

  it.each(REFERRAL_STATUSES.filter((s) => s !== 'requested'))(
    'when the system tries to expire a %s referral, then nothing happens',
    async (from) => {
      const id = await referralIn(from);
      const ok = await testKnex().transaction((trx) => ctx.deps.services.referrals.expire(trx, id));
      expect(ok).toBe(false);
    },
  );

  it('when two partner users accept and reject at once, then one wins and the other gets 409', async () => {
    for (let round = 0; round < 5; round += 1) {
      const id = await referralIn('requested');
      const [a, b] = await Promise.all([
        move(w.agents.partner, id, 'accepted'),
        move(w.agents.partner2, id, 'rejected', { reason: 'no_capacity' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const winner = a.status === 200 ? 'accepted' : 'rejected';
      const final = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(final.body.status).toBe(winner);
      expect(final.body.events).toHaveLength(2);
    }
  });

  /** Each event starts where the one before ended. */
  const chain = (events: { fromStatus: string | null; toStatus: string }[]) =>
    events.map((e) => [e.fromStatus, e.toStatus]);

  it('when the partner accepts while the requester cancels, both having read the same version, then one wins, the other gets 409 with the current referral, and the history holds one move', async () => {
    for (let round = 0; round < 6; round += 1) {
      const id = await referralIn('requested');
      const { version } = (await w.agents.worker.get(`/api/referrals/${id}`)).body;
      const [accept, cancel] = await Promise.all([
        move(w.agents.partner, id, 'accepted', { version }),
        move(w.agents.worker, id, 'cancelled', { reason: 'La personne a déménagé', version }),
      ]);
      expect([accept.status, cancel.status].sort()).toEqual([200, 409]);
      const winner = accept.status === 200 ? 'accepted' : 'cancelled';
      const loser = accept.status === 200 ? cancel : accept;
      expect(loser.body.error.details.current).toMatchObject({ status: winner, version: 2 });
      const final = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(final.body).toMatchObject({ status: winner, version: 2 });
      expect(chain(final.body.events)).toEqual([
        [null, 'requested'],
        ['requested', winner],
      ]);
      // What follows agrees with the winner: closing the loop only after an acceptance, the
      // partner told of the withdrawal only after a cancellation.
      const pending = await testKnex()('deadlines')
        .where({ subject_id: id, status: 'pending' })
        .orderBy('kind')
        .pluck('kind');
      expect(pending).toEqual(
        winner === 'accepted'
          ? ['referral.ask_outcome', 'referral.outcome_follow_up']
          : ['referral.email_withdrawn'],
      );
      const notified = await testKnex()('notifications').where({
        subject_id: id,
        kind: 'referral.accepted',
      });
      expect(notified).toHaveLength(winner === 'accepted' ? 1 : 0);
    }
  });

  it('when the partner accepts while the requester cancels without a version, then the referral ends cancelled with a consistent history either way', async () => {
    for (let round = 0; round < 6; round += 1) {
      const id = await referralIn('requested');
      const [accept, cancel] = await Promise.all([
        move(w.agents.partner, id, 'accepted'),
        move(w.agents.worker, id, 'cancelled', { reason: 'La personne a déménagé' }),
      ]);
      // A cancellation may follow an acceptance; an acceptance may not follow a cancellation.
      expect(cancel.status).toBe(200);
      expect([200, 409]).toContain(accept.status);
      const final = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(final.body.status).toBe('cancelled');
      expect(chain(final.body.events)).toEqual(
        accept.status === 200
          ? [
              [null, 'requested'],
              ['requested', 'accepted'],
              ['accepted', 'cancelled'],
            ]
          : [
              [null, 'requested'],
              ['requested', 'cancelled'],
            ],
      );
      // Only the partner's notice of the withdrawal waits.
      expect(
        await testKnex()('deadlines').where({ subject_id: id, status: 'pending' }).pluck('kind'),
      ).toEqual(['referral.email_withdrawn']);
    }
  });

  it('when a move names a version older than the referral, then 409 and nothing changes', async () => {
    const id = await referralIn('accepted');
    const res = await move(w.agents.partner, id, 'in_progress', { version: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('stale_version');
    expect(res.body.error.details.current).toMatchObject({ status: 'accepted', version: 2 });
    expect((await w.agents.worker.get(`/api/referrals/${id}`)).body.status).toBe('accepted');
    expect((await move(w.agents.partner, id, 'in_progress', { version: 2 })).status).toBe(200);
  });

  it.each([
    ['requested', 'accepted', 'Orientation acceptée par Banque alimentaire'],
    ['requested', 'rejected', 'Orientation refusée par Banque alimentaire'],
    ['accepted', 'in_progress', 'Banque alimentaire a commencé l’accompagnement'],
    ['on_hold', 'in_progress', 'Banque alimentaire a repris l’accompagnement'],
    ['accepted', 'on_hold', 'Banque alimentaire a mis l’orientation en pause'],
    ['in_progress', 'completed', 'Orientation réalisée par Banque alimentaire'],
    ['on_hold', 'failed', 'Banque alimentaire indique que l’orientation n’a pas abouti'],
  ] as const)(
    'when the partner user moves a referral from %s to %s, then the requester is notified once, without any personal data',
    async (from, to, title) => {
      const id = await referralIn(from);
      const res = await move(w.agents.partner, id, to, { reason: reasonFor(to) });
      expect(res.status).toBe(200);
      const notes = (
        (await w.agents.worker.get('/api/notifications')).body.items as {
          subjectId: string;
          kind: string;
          title: string;
          link: string;
        }[]
      ).filter((x) => x.subjectId === id && x.kind === `referral.${to}`);
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatchObject({ title, link: `/orientations/${id}` });
      expect(JSON.stringify(notes[0])).not.toMatch(/Nadia|Benali|Besoin|Famille/);
      // Only the requester: not the other worker of the structure.
      const others = await testKnex()('notifications').where({
        subject_id: id,
        kind: `referral.${to}`,
        recipient_id: w.team.worker2.id,
      });
      expect(others).toEqual([]);
    },
  );

  it('when the requester or a manager cancels, then no answer notification is sent to the requester or any staff: only the partner’s users are told', async () => {
    const id = await referralIn('accepted');
    await move(w.agents.manager, id, 'cancelled', { reason: 'Doublon' });
    const told = await testKnex()('notifications').where({
      subject_id: id,
      kind: 'referral.cancelled',
    });
    expect(told.map((n) => n.recipient_id as string).sort()).toEqual(
      [w.users.p1.id, w.users.p2.id].sort(),
    );
  });

  it.each([
    ['requested', 'accepted'],
    ['requested', 'rejected'],
    ['requested', 'cancelled'],
    ['accepted', 'in_progress'],
    ['accepted', 'on_hold'],
    ['on_hold', 'in_progress'],
    ['in_progress', 'cancelled'],
  ] as const)(
    'when a move from %s to %s carries an outcome, then 400 naming outcome and nothing changes',
    async (from, to) => {
      const id = await referralIn(from);
      const agent = actorsFor(to).allowed[0];
      const res = await move(agent, id, to, { reason: reasonFor(to), outcome: 'Aide apportée' });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('outcome');
      const after = await w.agents.worker.get(`/api/referrals/${id}`);
      expect(after.body).toMatchObject({ status: from, outcome: null });
    },
  );

  it.each(['completed', 'failed'] as const)(
    'when the partner moves an in-progress referral to %s with an outcome, then it is kept',
    async (to) => {
      const id = await referralIn('in_progress');
      const res = await move(w.agents.partner, id, to, {
        reason: reasonFor(to),
        outcome: 'Colis remis le 2 décembre',
      });
      expect(res.status).toBe(200);
      expect(res.body.outcome).toBe('Colis remis le 2 décembre');
    },
  );

  it('when the target is requested or unknown, then 400', async () => {
    const id = await referralIn('requested');
    expect((await move(w.agents.partner, id, 'requested')).status).toBe(400);
    expect((await move(w.agents.partner, id, 'done')).status).toBe(400);
  });
});
