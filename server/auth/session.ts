import type { Express, Request, RequestHandler } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import connectPgSimple from 'connect-pg-simple';
import type { Knex } from 'knex';
import type { Pool } from 'pg';
import type { Config } from '../config';
import type { Clock } from '../lib/clock';
import type { SessionUser, UserRepository } from '../features/users/user-repository';
import { toActor, withSessionFacts, type Actor } from './actor';

const PgStore = connectPgSimple(session);

const SESSION_COOKIE = 'av.sid';
export const IDLE_TIMEOUT_MS = 30 * 60 * 1000;
const ABSOLUTE_LIFETIME_MS = 12 * 60 * 60 * 1000;
/** The stored idle expiry is written again once it would move by more than this. */
export const TOUCH_INTERVAL_MS = 60 * 1000;

interface SerializedUser {
  id: string;
  epoch: number;
}

/** Whether users reach the app over HTTPS, from the scheme of PUBLIC_URL. */
export function servedOverHttps(config: Pick<Config, 'publicUrl'>): boolean {
  return new URL(config.publicUrl).protocol === 'https:';
}

/**
 * connect-pg-simple runs its queries on a `pg.Pool`-like object: this one lends it a connection
 * of the app's knex pool for each query, so PostgreSQL and the embedded PGlite (one instance,
 * shared with knex) serve the sessions alike. Both connections answer `query(text, params)` with
 * `{ rows }`.
 */
type Queryable = { query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }> };
function knexPool(knex: Knex): Pool {
  const client = knex.client as {
    acquireConnection(): Promise<Queryable>;
    releaseConnection(connection: Queryable): Promise<unknown>;
  };
  return {
    async query(text: string, params?: unknown[]) {
      const connection = await client.acquireConnection();
      try {
        return await connection.query(text, params);
      } finally {
        await client.releaseConnection(connection);
      }
    },
  } as unknown as Pool;
}

/** The user read with the session (on the session data until createSession moves it to the request). */
const PREFETCHED = Symbol('av.sessionUser');
type WithPrefetched = { [PREFETCHED]?: SessionUser | null };

/**
 * Rolling sessions move their idle expiry at every request, and writing it each time cost every
 * request an UPDATE and its commit (a WAL flush), before the response could end. This store
 * writes it when it would move by more than TOUCH_INTERVAL_MS since this process last wrote it
 * (or saved the session): the stored expiry lags the last request by less than a minute, so an
 * idle session ends at most a minute before its 30 minutes, never after. The session row is
 * still read on every request, so a session deleted or out of epoch ends at the next one.
 * The memory is per process (several web processes each write at most once a minute) and holds
 * one timestamp per session active within the last minute.
 */
class ThrottledTouchStore extends PgStore {
  private readonly written = new Map<string, number>();
  private readonly clock: Clock;
  private readonly knex: Knex;
  private readonly users: Pick<UserRepository, 'findSessionWithUser'>;

  constructor(
    options: ConstructorParameters<typeof PgStore>[0] & {
      clock: Clock;
      knex: Knex;
      users: Pick<UserRepository, 'findSessionWithUser'>;
    },
  ) {
    super(options);
    this.clock = options.clock;
    this.knex = options.knex;
    this.users = options.users;
  }

  /**
   * The session row and its user in one statement (connect-pg-simple's own `get` reads the
   * session alone, and the deserializer then read the user: two round trips before any
   * request's own work). Live at the wall clock, as connect-pg-simple reads and writes expiries
   * (express-session computes them from Date.now()). The user rides on the session data under a
   * symbol (never stored, never hashed) until createSession hands it to the request.
   */
  override get(sid: string, fn: (err: unknown, sess?: session.SessionData | null) => void): void {
    this.users.findSessionWithUser(this.knex, sid, new Date()).then(
      (found) => {
        if (!found) return fn(null, null);
        let sess: session.SessionData & WithPrefetched;
        try {
          sess = typeof found.sess === 'string' ? JSON.parse(found.sess) : found.sess;
        } catch {
          // As connect-pg-simple does: a session that cannot be read is ended, not thrown.
          return this.destroy(sid, (err) => fn(err, null));
        }
        Object.defineProperty(sess, PREFETCHED, { value: found.user, enumerable: false });
        return fn(null, sess);
      },
      (err: unknown) => fn(err),
    );
  }

  override createSession(req: Request, sess: session.SessionData) {
    const user = (sess as WithPrefetched)[PREFETCHED];
    if (user !== undefined) (req as WithPrefetched)[PREFETCHED] = user;
    return super.createSession(req, sess);
  }

  private remember(sid: string, now: number) {
    if (this.written.size >= 10_000) {
      for (const [k, at] of this.written) if (now - at >= TOUCH_INTERVAL_MS) this.written.delete(k);
    }
    this.written.set(sid, now);
  }

  override touch(sid: string, sess: session.SessionData, fn?: (err?: unknown) => void): void {
    const now = this.clock.now().getTime();
    const last = this.written.get(sid);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return fn?.();
    super.touch(sid, sess, (err?: unknown) => {
      if (!err) this.remember(sid, now);
      fn?.(err);
    });
  }

  override set(sid: string, sess: session.SessionData, fn?: (err?: unknown) => void): void {
    const now = this.clock.now().getTime();
    super.set(sid, sess, (err?: unknown) => {
      if (!err) this.remember(sid, now);
      fn?.(err);
    });
  }

  override destroy(sid: string, fn?: (err?: unknown) => void): void {
    this.written.delete(sid);
    super.destroy(sid, fn);
  }
}

/**
 * Sessions live in PostgreSQL; the user, its role and memberships are read again on every
 * request, so a change (role, disabling, new password) applies at the next request.
 */
export function installSessions(
  app: Express,
  knex: Knex,
  config: Config,
  users: Pick<UserRepository, 'findForSession' | 'findSessionWithUser'>,
  clock: Clock,
): void {
  const cleanupSeconds = config.SESSION_CLEANUP_INTERVAL_MS / 1000;
  // The store hands every database error to express-session's callbacks (a request gets its
  // 503 with PostgreSQL down); the table comes from a migration.
  const store = new ThrottledTouchStore({
    pool: knexPool(knex),
    tableName: 'sessions',
    createTableIfMissing: false,
    // Expired sessions are deleted, not only ignored: the table holds no stale logins. A failed
    // pass (database down) is retried at the next interval; nothing to report meanwhile.
    pruneSessionInterval: cleanupSeconds > 0 ? cleanupSeconds : false,
    errorLog: () => undefined,
    clock,
    knex,
    users,
  });
  if (cleanupSeconds > 0) store.pruneSessions();
  app.use(
    session({
      name: SESSION_COOKIE,
      secret: config.SESSION_SECRET,
      store,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        // Secure whenever users reach the app over HTTPS. Production requires an https
        // PUBLIC_URL unless ALLOW_INSECURE_HTTP opts out (the compose trial on localhost, which
        // must still be able to log in over plain HTTP). Behind a TLS-terminating proxy,
        // express reads X-Forwarded-Proto from the TRUST_PROXY hops.
        secure: servedOverHttps(config),
        maxAge: IDLE_TIMEOUT_MS,
      },
    }),
  );
  app.use(absoluteLifetime);

  // One authenticator per app: the passport singleton would pile up the (de)serializers of
  // every app built in the process and keep using the first one's database connection.
  const passport = new Passport();
  passport.serializeUser<SerializedUser>((user, done) => {
    const u = user as Actor & { sessionEpoch?: number };
    done(null, { id: u.id, epoch: u.sessionEpoch ?? 0 });
  });
  passport.deserializeUser<SerializedUser, Request>(async (req, stored, done) => {
    try {
      // Read with the session (ThrottledTouchStore.get) when it is this user; read now else.
      const prefetched = (req as WithPrefetched)[PREFETCHED];
      delete (req as WithPrefetched)[PREFETCHED];
      const u =
        prefetched === null || prefetched?.id === stored.id
          ? prefetched
          : await users.findForSession(knex, stored.id);
      if (!u || u.disabledAt || u.sessionEpoch !== stored.epoch) return done(null, false);
      return done(
        null,
        withSessionFacts(toActor(u), {
          totpEnabled: u.totpEnabled,
          structureSettings: u.structureSettings,
        }),
      );
    } catch (err) {
      return done(err);
    }
  });
  app.use(passport.initialize());
  app.use(passport.session());
}

/** Ends a session 12 hours after login whatever the activity. */
const absoluteLifetime: RequestHandler = (req, _res, next) => {
  const s = req.session;
  if (s?.createdAt && Date.now() - s.createdAt > ABSOLUTE_LIFETIME_MS) {
    // regenerate, not destroy: passport.session() needs a req.session, and would answer 500.
    return s.regenerate((err) => next(err));
  }
  return next();
};
