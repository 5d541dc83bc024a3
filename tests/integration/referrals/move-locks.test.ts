import { fixedClock } from '../../../server/lib/clock';
import { createTestContext, loginAs, type TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { createTeam } from '../../setup/factories';
import { settledOrWaiting } from '../deadlines/helpers';
import { createPerson, giveConsent, refer, referralWorld, type Agent } from './helpers';

/**
 * A move locks the person's row, then the referral's, but only once the caller is known to see
 * the referral: an outsider posting moves to a referral id must neither lock the person's file
 * (every write on it would wait) nor learn from a wait that the id exists.
 */
describe('referral moves check the scope before locking the person', () => {
  let ctx: TestContext;
  let w: Awaited<ReturnType<typeof referralWorld>>;
  let otherStructure: { worker: Agent; manager: Agent };
  let personId: string;
  let referralId: string;

  beforeAll(async () => {
    ctx = await createTestContext({ clock: fixedClock('2026-11-24T10:00:00+01:00') });
    w = await referralWorld(ctx.app);
    const other = await createTeam();
    otherStructure = {
      worker: await loginAs(ctx.app, other.worker.email),
      manager: await loginAs(ctx.app, other.manager.email),
    };
    personId = (await createPerson(w.agents.worker)).id;
    await giveConsent(w.agents.worker, personId, w.food.partner.id);
    const created = await refer(w.agents.worker, personId, w.food.partner.id);
    expect(created.status).toBe(201);
    referralId = created.body.id as string;
  });
  afterAll(async () => ctx.close());

  /** Runs `fn` while another transaction holds the person's row lock, then lets it go. */
  async function whilePersonLocked<T>(fn: () => Promise<T>): Promise<T> {
    const holder = await testKnex().transaction();
    try {
      await holder('persons').where({ id: personId }).forUpdate().first('id');
      return await fn();
    } finally {
      await holder.rollback();
    }
  }

  /** Starts a move and tells whether it answered or waited on a lock while the person is held. */
  async function moveWhilePersonLocked(agent: Agent, body: Record<string, unknown>) {
    return whilePersonLocked(async () => {
      let res: { status: number } | undefined;
      const sent = agent
        .post(`/api/referrals/${referralId}/transitions`)
        .send(body)
        .then((r) => (res = r));
      const state = await settledOrWaiting(() => res !== undefined);
      return { state, sent };
    });
  }

  it.each([
    ['a partner user of another organisation', 'outsider', { to: 'accepted' }],
    ['a worker of another structure', 'worker', { to: 'cancelled', reason: 'Doublon' }],
    ['a manager of another structure', 'manager', { to: 'cancelled', reason: 'Doublon' }],
  ] as const)(
    'when %s posts a move while the person is locked elsewhere, then 404 at once, without waiting for the lock',
    async (_who, caller, body) => {
      const agent = caller === 'outsider' ? w.agents.outsider : otherStructure[caller];
      const { state, sent } = await moveWhilePersonLocked(agent, body);
      expect(state).toBe('settled');
      expect((await sent).status).toBe(404);
    },
  );

  it('when the partner the referral is addressed to moves it while the person is locked elsewhere, then it waits for the lock and then moves it', async () => {
    const { state, sent } = await moveWhilePersonLocked(w.agents.partner, { to: 'accepted' });
    // The control case: the held lock is the one a move in scope takes first.
    expect(state).toBe('waiting');
    expect((await sent).status).toBe(200);
    const row = await testKnex()('referrals').where({ id: referralId }).first('status');
    expect(row.status).toBe('accepted');
  });
});
