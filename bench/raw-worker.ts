/**
 * The yardstick of the deadline bench: a bare BullMQ worker whose processor does nothing, on the
 * same Redis, with the same concurrency as the app's workers. Prints READY once it listens.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { DEADLINE_QUEUE } from '../jobs/queues';

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
const worker = new Worker(DEADLINE_QUEUE, async () => undefined, {
  connection,
  prefix: process.env.QUEUE_PREFIX,
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 5),
});
worker.on('error', (err) => console.error(err.message));
void worker.waitUntilReady().then(() => process.stdout.write('READY\n'));
process.on('SIGTERM', () => {
  void worker
    .close()
    .then(() => connection.disconnect())
    .then(() => process.exit(0));
});
