import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDeadlineWorker, type DeadlineWorker } from '../jobs/runtime';
import { createApp, createPrivateApp } from './app';
import { parseConfig, type Config } from './config';
import { buildContainer, type Deps } from './container';
import { createCipher } from './lib/crypto';
import { migrateLatest, openDatabase, type Database } from './lib/db';
import { createLogger, type Logger } from './lib/logger';
import { onShutdown } from './lib/shutdown';
import { TIMED_OUT, within } from './lib/time-limit';
import { DEMO_ACCOUNTS, DEMO_PASSWORD, seedDemo } from './seed/demo';
import { countSeedAccounts, DEMO_EMAIL_DOMAIN, seedAccountsRefusal } from './seed/seed-accounts';

/**
 * Boot: config → database (migrated; demo data only in a fresh embedded one) → container → HTTP
 * and, as it listens, the shutdown hooks → in-process worker when asked.
 */

/** Migrates; seeds only the embedded database and only while it holds no structure. */
async function prepareDatabase(
  db: Database,
  config: Config,
  logger: Logger,
): Promise<{ seeded: boolean; demoAccounts: number }> {
  const applied = await migrateLatest(db);
  if (applied.length) logger.info({ migrations: applied }, 'Database migrated');

  let seeded = false;
  if (db.kind === 'pglite' && !(await db.knex('structures').first('id'))) {
    await seedDemo(db.knex, { cipher: createCipher(config.ENCRYPTION_KEY) });
    seeded = true;
    logger.info('Demo data loaded into the embedded database');
  }
  const seedAccounts = await countSeedAccounts(db.knex);
  const refusal = seedAccountsRefusal(seedAccounts);
  if (config.NODE_ENV === 'production' && refusal) throw new Error(refusal);
  return { seeded, demoAccounts: seedAccounts[DEMO_EMAIL_DOMAIN] };
}

/**
 * Stops accepting connections and lets in-flight requests finish. Keep-alive connections are
 * closed as soon as they are idle, so a browser holding one open cannot delay the exit.
 */
function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.close((err) => {
      clearInterval(sweep);
      if (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * The worker bounds its own active jobs by SHUTDOWN_TIMEOUT_MS, but a close that cannot reach
 * Redis may never settle; past the bound we move on, so the database (and the embedded
 * database's lock) is still closed. Nothing is lost: deadlines live in PostgreSQL.
 */
async function closeWorker(
  worker: DeadlineWorker | null,
  boundMs: number,
  logger: Logger,
): Promise<void> {
  if (!worker) return;
  if ((await within(worker.close(), boundMs)) === TIMED_OUT)
    logger.warn('The deadline worker did not close in time (Redis unreachable?); going on');
}

function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function banner(url: string, demo: boolean): string {
  const lines = [``, `  aller-vers is running: open ${url}`];
  if (demo) {
    lines.push(
      ``,
      `  Demo accounts (embedded database), password "${DEMO_PASSWORD}":`,
      ...DEMO_ACCOUNTS.map((a) => `    ${a.role.padEnd(9)} ${a.email}`),
    );
  }
  // The reference people read (Swagger UI), then the raw document tools read.
  lines.push(
    ``,
    `  API reference:           ${url}/docs/api`,
    `  OpenAPI document (JSON): ${url}/api/docs`,
    ``,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const config = parseConfig();
  const logger = createLogger(config.LOG_LEVEL).child({ process: 'web' });

  // On the embedded database this takes the folder's lock: a second process is refused here.
  const db = await openDatabase(config, logger);
  let deps: Deps | null = null;
  // The in-process worker once its start has ended (null without one, or when it failed).
  let workerStart: Promise<DeadlineWorker | null> = Promise.resolve(null);
  let shutdown: ReturnType<typeof onShutdown> | null = null;
  let prepared: { seeded: boolean; demoAccounts: number };
  let address: AddressInfo;
  const server = http.createServer();
  const metricsServer = http.createServer();
  try {
    prepared = await prepareDatabase(db, config, logger);
    deps = await buildContainer(config, { db, logger });
    server.on('request', createApp(deps));
    address = await listen(server, config.PORT, config.HOST);
    // Installed in the tick the server starts listening, before it reads a request: a SIGTERM
    // sent as soon as /healthz answers (a container stopped at once) finds them, even while the
    // worker below is still starting (up to a Redis connect timeout). Without them, the signal's
    // default action ended the process on the spot, with no clean shutdown.
    const running = deps;
    shutdown = onShutdown(
      [
        { name: 'HTTP server', run: () => closeServer(server) },
        { name: 'metrics server', run: () => closeServer(metricsServer) },
        {
          // A worker still starting is waited for, then closed.
          name: 'deadline worker',
          run: async () =>
            closeWorker(
              await workerStart.catch(() => null),
              config.SHUTDOWN_TIMEOUT_MS + 2000,
              logger,
            ),
        },
        { name: 'queue, Redis and database', run: () => running.close() },
      ],
      // The worker step is bounded at SHUTDOWN_TIMEOUT_MS + 2 s; HTTP and the database share the
      // rest.
      { timeoutMs: config.SHUTDOWN_TIMEOUT_MS + 8000, logger },
    );
    if (config.METRICS_PORT !== undefined) {
      metricsServer.on('request', createPrivateApp(deps));
      const m = await listen(metricsServer, config.METRICS_PORT, config.METRICS_HOST);
      logger.info({ host: m.address, port: m.port }, 'Metrics served on the private port');
    }
    if (config.RUN_WORKER_IN_WEB) {
      workerStart = startDeadlineWorker(deps, {
        // The in-process worker stopped itself after its start (an evicting Redis policy): the
        // web ends through its shutdown, with 1, as it refuses to start when the worker does.
        onFatal: (err) => {
          logger.fatal({ err: err.message }, 'The deadline worker stopped; ending the process');
          void shutdown?.run('deadline worker stopped', 1);
        },
      });
      await workerStart;
    }
  } catch (err) {
    // A shutdown under way closes what was started; it ends the process itself.
    if (shutdown?.isShuttingDown) return;
    server.close();
    metricsServer.close();
    await (await workerStart.catch(() => null))?.close().catch(() => undefined);
    await (deps ? deps.close() : db.close()).catch(() => undefined);
    throw err;
  }
  // Stopped while starting: the shutdown is closing everything; nothing to announce.
  if (shutdown.isShuttingDown) return;

  const url =
    config.PUBLIC_URL ??
    `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST}:${address.port}`;
  logger.info(
    {
      url,
      database: db.kind,
      worker: config.RUN_WORKER_IN_WEB ? 'in-process' : 'separate',
      seeded: prepared.seeded,
    },
    'aller-vers web started',
  );
  const demo = db.kind === 'pglite' && prepared.demoAccounts > 0;
  process.stdout.write(`${banner(url, demo)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`aller-vers could not start: ${err.message}\n`);
  process.exit(1);
});
