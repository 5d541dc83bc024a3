import type { fixedClock } from '../../../server/lib/clock';
import { createDeadlineRepository } from '../../../server/features/deadlines/deadline-repository';
import type { TestContext } from '../../setup/context';
import { testKnex } from '../../setup/db';
import { waitFor } from './helpers';

const deadlineRepository = createDeadlineRepository();

type FixedClock = ReturnType<typeof fixedClock>;

/**
 * Moves the injected clock to `at` and lets the real worker deliver what fell due meanwhile.
 * A job's delay was counted from the clock when it was added; the jobs of the pending deadlines
 * now due are promoted, as the passing time would have done. Then waits until no pending
 * deadline is due (each processed, planned ones relayed and processed too).
 */
export async function advanceTo(ctx: TestContext, clock: FixedClock, at: Date | string) {
  clock.set(at);
  const now = clock.now();
  await waitFor(
    async () => {
      for (const job of await ctx.deps.queue.getDelayed(0, -1)) {
        const id = job.data?.deadlineId;
        const d = id ? await deadlineRepository.findById(testKnex(), id) : null;
        if (d && d.status === 'pending' && d.dueAt <= now)
          await job.promote().catch(() => undefined);
      }
      const due = await testKnex()('deadlines')
        .where({ status: 'pending' })
        .andWhere('due_at', '<=', now)
        .first('id');
      return !due;
    },
    `every deadline due by ${now.toISOString()} to be processed`,
    20_000,
  );
}

export const paris = (local: string) => new Date(`${local}+01:00`);
