import { createUnitOfWork, UOW_ATTEMPTS } from '../../../server/lib/unit-of-work';
import { testKnex } from '../../setup/db';

/**
 * A unit of work PostgreSQL aborts to break a deadlock is run again: two transactions that take
 * two locks in opposite orders (as a manager's reassign and a worker's contact can take the
 * backlog's counter rows and a file) both end committed, and what follows each commit runs once.
 * The locks are transaction-level advisory locks, which PostgreSQL's deadlock detector sees as
 * it sees row locks.
 */
describe('unit of work: a deadlock victim is run again', () => {
  /** A unit of work whose outbox counts what runs after each commit. */
  function uowCounting() {
    const committed: string[] = [];
    const uow = createUnitOfWork(testKnex(), () => {
      const scheduled: string[] = [];
      return {
        writer: (what: string) => scheduled.push(what),
        afterCommit: async () => {
          committed.push(...scheduled);
        },
      };
    });
    return { uow, committed };
  }

  it('when two units of work deadlock, then PostgreSQL aborts one, it is run again, and both commit once', async () => {
    const { uow, committed } = uowCounting();
    let resolveA!: () => void;
    let resolveB!: () => void;
    const aHolds = new Promise<void>((r) => (resolveA = r));
    const bHolds = new Promise<void>((r) => (resolveB = r));
    const attempts = { a: 0, b: 0 };
    const side = (name: 'a' | 'b', first: number, second: number) =>
      uow(async (trx, schedule) => {
        attempts[name]++;
        await trx.raw('SELECT pg_advisory_xact_lock(?)', [first]);
        (name === 'a' ? resolveA : resolveB)();
        await (name === 'a' ? bHolds : aHolds);
        await trx.raw('SELECT pg_advisory_xact_lock(?)', [second]);
        schedule(name);
        return name;
      });
    const results = await Promise.all([side('a', 71_001, 71_002), side('b', 71_002, 71_001)]);
    expect(results).toEqual(['a', 'b']);
    // One side was the victim and ran twice; the other ran once.
    expect(attempts.a + attempts.b).toBe(3);
    expect(committed.sort()).toEqual(['a', 'b']);
  });

  it('when the error is not a lost race, then it goes to the caller at once', async () => {
    const { uow, committed } = uowCounting();
    let runs = 0;
    await expect(
      uow(async (trx) => {
        runs++;
        await trx.raw('SELECT 1 / 0');
      }),
    ).rejects.toMatchObject({ code: '22012' });
    expect(runs).toBe(1);
    expect(committed).toEqual([]);
  });

  it('when every attempt deadlocks, then the last error goes to the caller after UOW_ATTEMPTS runs', async () => {
    const { uow, committed } = uowCounting();
    let runs = 0;
    await expect(
      uow(async (_trx, schedule) => {
        runs++;
        schedule('never');
        throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      }),
    ).rejects.toMatchObject({ code: '40P01' });
    expect(runs).toBe(UOW_ATTEMPTS);
    expect(committed).toEqual([]);
  });
});
