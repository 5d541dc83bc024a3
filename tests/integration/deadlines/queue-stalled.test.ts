import crypto from 'node:crypto';
import { createDeadlineQueue, deadlineJobId } from '../../../jobs/queues';
import { createRedis, PRODUCER_COMMAND_TIMEOUT_MS, tryConnect } from '../../../server/lib/redis';
import { TEST_REDIS_URL } from '../../setup/env';
import { startRedisProxy } from '../../setup/redis-proxy';
import { removeRedisKeys } from '../start/processes';

/** Past the producers' command timeout. */
const PAST_COMMAND_TIMEOUT_MS = PRODUCER_COMMAND_TIMEOUT_MS + 1000;

describe("the web's deadline queue, when Redis stalls as the queue starts", () => {
  const prefix = `test-queue-stalled-${crypto.randomBytes(4).toString('hex')}`;
  afterAll(async () => removeRedisKeys(prefix));

  it('works once Redis answers again: nothing it sent first, timed out, is kept against it', async () => {
    const proxy = await startRedisProxy(new URL(TEST_REDIS_URL), { passing: true });
    const redis = createRedis(proxy.url, 'producer');
    redis.on('error', () => undefined);
    const queue = createDeadlineQueue(redis, prefix);
    queue.on('error', () => undefined);
    try {
      expect(await tryConnect(redis)).toBe(true);
      // The queue first connects while Redis does not answer. BullMQ's version check, one INFO
      // sent then and never again, timed out there and every later call of the queue failed
      // with it ("Command timed out"), for the life of the process.
      proxy.freeze();
      await new Promise((r) => setTimeout(r, PAST_COMMAND_TIMEOUT_MS));
      proxy.thaw();

      const deadlineId = crypto.randomUUID();
      await queue.add('person.no_contact', { deadlineId }, { jobId: deadlineJobId(deadlineId) });
      const job = await queue.getJob(deadlineJobId(deadlineId));
      expect(job?.data).toEqual({ deadlineId });
    } finally {
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await proxy.close();
    }
  });
});
