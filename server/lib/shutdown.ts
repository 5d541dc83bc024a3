import type { Logger } from './logger';
import { TIMED_OUT, within } from './time-limit';

interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

interface ShutdownOptions {
  /** Overall bound: past it, the process exits with 1 whatever is still running. */
  timeoutMs: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Injected by tests; process.exit otherwise. */
  exit?: (code: number) => void;
}

/**
 * Builds the shutdown sequence: steps run in order, each bounded by what is left of the overall
 * time, so one stuck step (a job that never ends, a Redis that never answers) cannot hold the
 * process. Runs once: a second call returns the first one's promise.
 */
export function createShutdown(steps: ShutdownStep[], opts: ShutdownOptions) {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let running: Promise<number> | null = null;

  async function sequence(reason: string, exitCode: number): Promise<number> {
    const deadline = Date.now() + opts.timeoutMs;
    opts.logger.info({ reason }, 'Shutting down');
    let code = exitCode;
    for (const step of steps) {
      const left = deadline - Date.now();
      if (left <= 0) {
        opts.logger.error({ step: step.name }, 'Shutdown time bound passed; exiting now');
        return 1;
      }
      const outcome = await within(
        step.run().then(
          () => 'ok' as const,
          (err: Error) => {
            opts.logger.error({ step: step.name, err: err.message }, 'Shutdown step failed');
            return 'failed' as const;
          },
        ),
        left,
      );
      if (outcome === TIMED_OUT) {
        opts.logger.error({ step: step.name }, 'Shutdown time bound passed; exiting now');
        return 1;
      }
      if (outcome === 'failed') code = 1;
    }
    opts.logger.info('Shutdown complete');
    return code;
  }

  return {
    get isShuttingDown() {
      return running !== null;
    },
    /**
     * Runs the steps, then exits with `exitCode` (1 when a failure ends the process: the steps
     * still run, in order), or 1 if a step failed or the bound passed.
     */
    run(reason: string, exitCode = 0): Promise<number> {
      running ??= sequence(reason, exitCode).then((code) => {
        exit(code);
        return code;
      });
      return running;
    },
  };
}

let installed: ReturnType<typeof createShutdown> | null = null;

/**
 * Installs the SIGTERM/SIGINT handlers once for the process. Steps go in the order work stops:
 * stop taking work (worker, HTTP server), then queues, Redis and the database.
 */
export function onShutdown(steps: ShutdownStep[], opts: ShutdownOptions) {
  if (installed) {
    opts.logger.warn('Shutdown handlers are already installed; ignoring the second set');
    return installed;
  }
  const shutdown = createShutdown(steps, opts);
  installed = shutdown;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (shutdown.isShuttingDown) {
        opts.logger.warn({ signal }, 'Already shutting down');
        return;
      }
      void shutdown.run(signal);
    });
  }
  return shutdown;
}
