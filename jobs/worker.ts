import { parseConfig } from '../server/config';
import { buildContainer } from '../server/container';
import { createLogger } from '../server/lib/logger';
import { onShutdown } from '../server/lib/shutdown';
import { startDeadlineWorker, type DeadlineWorkerOptions } from './runtime';

/**
 * The worker process (`npm run worker`): delivers deadlines; the web may also run one in-process.
 * Exported so a test fixture runs this very boot and shutdown with slower processors.
 */
export async function runWorkerProcess(opts: DeadlineWorkerOptions = {}): Promise<boolean> {
  const config = parseConfig();
  const logger = createLogger(config.LOG_LEVEL).child({ process: 'worker' });
  if (!config.DATABASE_URL) {
    // The embedded database belongs to one process: the web runs the worker in-process instead.
    logger.error(
      'A separate worker needs DATABASE_URL; with the embedded database, `npm start` runs the worker inside the web',
    );
    process.exitCode = 1;
    return false;
  }
  const deps = await buildContainer(config, { logger });
  let worker;
  try {
    worker = await startDeadlineWorker(deps, opts);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'The deadline worker refused to start');
    await deps.close();
    process.exitCode = 1;
    return false;
  }
  onShutdown(
    [
      { name: 'deadline worker', run: () => worker.close() },
      { name: 'queue, Redis and database', run: () => deps.close() },
    ],
    { timeoutMs: config.SHUTDOWN_TIMEOUT_MS + 5000, logger },
  );
  logger.info({ prefix: config.QUEUE_PREFIX }, 'Deadline worker started');
  return true;
}

if (require.main === module) {
  runWorkerProcess().catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
}
