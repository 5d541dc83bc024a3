/**
 * The servers under test, each in a child process of its own so that neither the load generator
 * nor the other server shares its event loop, and so that the app's memory can be read alone:
 * - `BENCH_SERVER=app`: the real app (createApp);
 * - `BENCH_SERVER=bare`: bare Express handlers. `/hello` and `/person/:id` (a knex select by
 *   id) as before, and the baselines, on a node-postgres Pool without knex, running the
 *   essential statements of the app's hot requests and nothing else:
 *   - `GET /read/:id`: the session row by sid, the user, the person selected by id scoped by
 *     structure (the user and the person read by the app's very statements, captured from its
 *     repositories at start), and the audit row, committed on its own as the app commits it;
 *   - `POST /contact/:id`: the session row, the user, then in one transaction the person locked
 *     in scope by the UPDATE that moves its last activity (as the app locks it for a contact),
 *     the contact inserted (summary encrypted with the app's cipher) and the audit row;
 *   - `GET /replay/:key`: the statements the app sent for one request of a scenario (recorded by
 *     the app's server on the run's demand, bench/replay.ts), replayed from its session read on.
 * Once listening, each child sends its ports to the parent; then it answers the run's messages
 * (BenchMessage): record, replay, stop.
 */
import crypto from 'node:crypto';
import express, { type Request } from 'express';
import knexFactory from 'knex';
import pg from 'pg';
import pino from 'pino';
import { createApp } from '../server/app';
import { buildContainer } from '../server/container';
import { createCipher } from '../server/lib/crypto';
import { connectionSettings, createPostgres } from '../server/lib/db';
import { benchConfig } from './config';
import {
  isSessionStatement,
  numbered,
  replayable,
  type BenchMessage,
  type Statement,
} from './replay';

async function appServer(url: string) {
  const config = benchConfig(url);
  const deps = await buildContainer(config, {
    db: createPostgres(config, url),
    logger: pino({ level: 'silent' }),
  });
  // The statements of one request, recorded on the parent's demand (see `replay` below).
  let recording: Statement[] | null = null;
  deps.knex.on('query', (q: { sql: string; bindings?: unknown[] }) => {
    recording?.push({ sql: q.sql, bindings: q.bindings ?? [] });
  });
  const server = createApp(deps).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    ports: { app: (server.address() as { port: number }).port },
    record(on: boolean) {
      const done = recording;
      recording = on ? [] : null;
      return done ?? [];
    },
    async close() {
      server.close();
      await deps.close();
    },
  };
}

type Captured = { text: string; bindings: unknown[]; idAt: number };

/**
 * The statements the app runs to read a person in scope and the signed-in user (with their
 * structure's settings), with their bindings, captured from the app's own repositories through
 * knex's query event: the baseline runs the same SQL, each with the id swapped at each call.
 */
async function appStatements(url: string, structureId: string, personId: string) {
  const config = benchConfig(url);
  const deps = await buildContainer(config, {
    db: createPostgres(config, url),
    logger: pino({ level: 'silent' }),
  });
  /** The statement `call` sends that matches `pattern`, its `id` binding located. */
  async function capture(pattern: RegExp, id: string, call: () => Promise<unknown>) {
    let captured: { sql: string; bindings: unknown[] } | null = null;
    const listener = (q: { sql: string; bindings?: unknown[] }) => {
      if (pattern.test(q.sql)) captured = { sql: q.sql, bindings: q.bindings ?? [] };
    };
    deps.knex.on('query', listener);
    try {
      if (!(await call()) || !captured) throw new Error(`bench: ${pattern} was not captured`);
    } finally {
      deps.knex.removeListener('query', listener);
    }
    const { sql, bindings } = captured as { sql: string; bindings: unknown[] };
    const idAt = bindings.indexOf(id);
    if (idAt < 0) throw new Error(`bench: unexpected bindings for ${pattern}`);
    return { text: numbered(sql), bindings, idAt } satisfies Captured;
  }
  try {
    const person = await capture(/from "persons"/, personId, () =>
      deps.services.persons.find(deps.knex, structureId, personId),
    );
    // The person read is scoped: the seeded structure (this user's) is bound too.
    if (!person.bindings.includes(structureId))
      throw new Error('bench: unexpected person read bindings');
    const { id: userId } = await deps
      .knex('users')
      .where({ structure_id: structureId })
      .first('id');
    const user = await capture(/from "users" as "u"/, userId, () =>
      deps.repos.users.findForSession(deps.knex, userId),
    );
    return { person, user };
  } finally {
    await deps.close();
  }
}

/** A captured statement's bindings with the requested id in the place of the captured one. */
const withId = (c: Captured, id: string) => {
  const bindings = [...c.bindings];
  bindings[c.idAt] = id;
  return bindings;
};

async function bareServer(url: string) {
  const config = benchConfig(url);
  const structureId = process.env.BENCH_STRUCTURE_ID!;
  const personId = process.env.BENCH_PERSON_ID!;
  const { person, user: userStatement } = await appStatements(url, structureId, personId);
  const cipher = createCipher(config.ENCRYPTION_KEY);

  // The app's connection settings (statement timeout, no parallel workers): the same plans.
  const bareKnex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, ...connectionSettings(config) },
    pool: { min: 0, max: config.DB_POOL_MAX },
  });
  const pool = new pg.Pool({
    connectionString: url,
    max: config.DB_POOL_MAX,
    ...connectionSettings(config),
  });

  /** The sid of a signed express-session cookie (`s:<sid>.<hmac>`), checked, or null. */
  const sidOf = (req: Request): string | null => {
    const raw = /(?:^|;\s*)av\.sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!raw) return null;
    const value = decodeURIComponent(raw);
    if (!value.startsWith('s:')) return null;
    const dot = value.lastIndexOf('.');
    const sid = value.slice(2, dot);
    const mac = crypto
      .createHmac('sha256', config.SESSION_SECRET)
      .update(sid)
      .digest('base64')
      .replace(/=+$/, '');
    return mac === value.slice(dot + 1) ? sid : null;
  };

  /** The signed-in user's id from the session row, read as connect-pg-simple reads it. */
  async function sessionUserId(req: Request): Promise<string | null> {
    const sid = sidOf(req);
    if (!sid) return null;
    const s = await pool.query(
      'SELECT sess FROM sessions WHERE sid = $1 AND expire >= to_timestamp($2)',
      [sid, Math.ceil(Date.now() / 1000)],
    );
    return (s.rows[0]?.sess?.passport?.user?.id as string | undefined) ?? null;
  }

  /** Session row then user row, as connect-pg-simple and the session's deserializer read them. */
  async function signedIn(req: Request) {
    const userId = await sessionUserId(req);
    if (!userId) return null;
    // The app's statement (findForSession): the user's columns a request needs, with their
    // structure's settings.
    const u = await pool.query(userStatement.text, withId(userStatement, userId));
    const user = u.rows[0];
    return user && !user.disabled_at ? user : null;
  }

  const auditSql =
    'insert into "audit_events" ("action", "actor_id", "actor_role", "details", "ip", "structure_id", "subject_id", "subject_type") values ($1, $2, $3, $4, $5, $6, $7, $8)';

  const bare = express();
  bare.use(express.json({ limit: '100kb' }));
  bare.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  bare.get('/person/:id', async (req, res) => {
    res.json(await bareKnex('persons').where({ id: req.params.id }).first());
  });
  bare.get('/read/:id', async (req, res) => {
    const user = await signedIn(req);
    if (!user) return void res.status(401).end();
    // The statement's structure binding is the seeded structure's, which is this user's.
    const p = await pool.query(person.text, withId(person, req.params.id));
    if (!p.rows[0]) return void res.status(404).end();
    await pool.query(auditSql, [
      'person.read',
      user.id,
      user.role,
      null,
      req.ip,
      user.structure_id,
      req.params.id,
      'person',
    ]);
    res.json(p.rows[0]);
  });
  bare.post('/contact/:id', async (req, res) => {
    const user = await signedIn(req);
    if (!user) return void res.status(401).end();
    const body = req.body as {
      occurredAt: string;
      channel: string;
      outcome: string;
      summary: string;
    };
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // The app's lock for a contact: the UPDATE that moves the file's last activity (a rule:
      // retention counts from it), returning what the contact's rules read.
      const locked = await client.query(
        'update "persons" set "last_activity_at" = greatest(last_activity_at, $1) where "id" = $2 and "structure_id" = $3 returning "id", "version", "referent_id", "pause_reminders", "last_contact_at"',
        [new Date(), req.params.id, user.structure_id],
      );
      if (!locked.rows[0]) {
        await client.query('ROLLBACK');
        return void res.status(404).end();
      }
      const c = await client.query(
        'insert into "contacts" ("author_id", "channel", "occurred_at", "outcome", "person_id", "structure_id", "summary_enc") values ($1, $2, $3, $4, $5, $6, $7) returning "id"',
        [
          user.id,
          body.channel,
          new Date(body.occurredAt),
          body.outcome,
          req.params.id,
          user.structure_id,
          cipher.encryptOptional(body.summary),
        ],
      );
      await client.query(auditSql, [
        'contact.create',
        user.id,
        user.role,
        JSON.stringify({ contactId: c.rows[0].id, followUpId: null }),
        req.ip,
        user.structure_id,
        req.params.id,
        'person',
      ]);
      await client.query('COMMIT');
      res.status(201).json({ id: c.rows[0].id });
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  });

  /** The replay twins, by key: the statements of one request of an app scenario. */
  const replays = new Map<string, { text: string; bindings: unknown[]; session: boolean }[]>();
  bare.get('/replay/:key', async (req, res) => {
    const statements = replays.get(req.params.key);
    if (!statements) return void res.status(404).end();
    // The cookie's signature; the session row and its user are read by the app's own
    // statement, replayed with the rest: no row, no answer.
    if (!sidOf(req)) return void res.status(401).end();
    // One connection, the statements in the order the app sent them (a transaction's BEGIN and
    // COMMIT among them); the last one's rows are the answer.
    const client = await pool.connect();
    let rows: unknown[] = [];
    try {
      for (const q of statements) {
        rows = (await client.query(q.text, q.bindings)).rows;
        if (q.session && rows.length === 0) return void res.status(401).end();
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    res.json(rows);
  });

  const server = bare.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    ports: { bare: (server.address() as { port: number }).port },
    replay(key: string, statements: Statement[]) {
      replays.set(
        key,
        replayable(statements).map((q) => ({
          text: numbered(q.sql),
          bindings: q.bindings,
          session: isSessionStatement(q),
        })),
      );
    },
    async close() {
      server.close();
      await bareKnex.destroy();
      await pool.end();
    },
  };
}

async function main() {
  const url = process.env.BENCH_DATABASE_URL!;
  const which = process.env.BENCH_SERVER === 'bare' ? bareServer : appServer;
  const s: {
    ports: Record<string, number>;
    record?: (on: boolean) => Statement[];
    replay?: (key: string, statements: Statement[]) => void;
    close(): Promise<void>;
  } = await which(url);
  process.send?.(s.ports);
  process.on('message', async (m: BenchMessage) => {
    if (m === 'stop') {
      await s.close();
      process.exit(0);
    }
    if (m.type === 'record') process.send?.({ type: 'recorded', statements: s.record!(m.on) });
    if (m.type === 'replay') {
      s.replay!(m.key, m.statements);
      process.send?.({ type: 'replaying', key: m.key });
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
