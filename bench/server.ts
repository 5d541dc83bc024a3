/**
 * The two servers under test, in one child process so the load generator does not share its
 * event loop: the real app (createApp) and a bare Express + knex baseline.
 */
import express from 'express';
import knexFactory from 'knex';
import pino from 'pino';
import { createApp } from '../server/app';
import { buildContainer } from '../server/container';
import { createPostgres } from '../server/lib/db';
import { benchConfig } from './config';

async function main() {
  const url = process.env.BENCH_DATABASE_URL!;
  const config = benchConfig(url);
  const deps = await buildContainer(config, {
    db: createPostgres(config, url),
    logger: pino({ level: 'silent' }),
  });
  const app = createApp(deps);

  const bareKnex = knexFactory({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: config.DB_POOL_MAX },
  });
  const bare = express();
  bare.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  bare.get('/person/:id', async (req, res) => {
    res.json(await bareKnex('persons').where({ id: req.params.id }).first());
  });

  const a = app.listen(0, '127.0.0.1');
  const b = bare.listen(0, '127.0.0.1');
  await Promise.all([
    new Promise((r) => a.once('listening', r)),
    new Promise((r) => b.once('listening', r)),
  ]);
  const port = (s: typeof a) => (s.address() as { port: number }).port;
  process.send?.({ app: port(a), bare: port(b) });
  process.on('message', async () => {
    a.close();
    b.close();
    await bareKnex.destroy();
    await deps.close();
    process.exit(0);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
