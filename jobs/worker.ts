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
  // The handlers in the same tick as the start, as the web installs them when it listens: the
  // Worker takes jobs as soon as it exists, and a SIGTERM while it starts (a Redis connect can
  // take 2 s) must find them. A worker still starting is waited for, then closed.
  const started = startDeadlineWorker(deps, {
    ...opts,
    // The worker stopped itself after its start (an evicting Redis policy): the process ends
    // through the same shutdown, with 1, as it would have refused to start.
    onFatal: (err) => {
      logger.fatal({ err: err.message }, 'The deadline worker stopped; ending the process');
      void shutdown.run('deadline worker stopped', 1);
    },
  });
  const shutdown = onShutdown(
    [
      {
        name: 'deadline worker',
        run: async () => (await started.catch(() => null))?.close(),
      },
      { name: 'queue, Redis and database', run: () => deps.close() },
    ],
    { timeoutMs: config.SHUTDOWN_TIMEOUT_MS + 5000, logger },
  );
  try {
    await started;
  } catch (err) {
    // A shutdown under way closes the rest and ends the process itself.
    if (shutdown.isShuttingDown) return false;
    logger.fatal({ err: (err as Error).message }, 'The deadline worker refused to start');
    await deps.close();
    process.exitCode = 1;
    return false;
  }
  if (shutdown.isShuttingDown) return false;
  logger.info({ prefix: config.QUEUE_PREFIX }, 'Deadline worker started');
  return true;
}

if (require.main === module) {
  runWorkerProcess().catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
}
