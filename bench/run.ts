/**
 * npm run bench: seeds a bench database per size, starts the app and the bare baselines in child
 * processes of their own, loads each scenario in turn from this process and writes
 * docs/benchmarks.md. Figures are only comparable within one run (noisy shared machine): read
 * the ratios to the bare handlers of the same run.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import * as prettier from 'prettier';
import pino from 'pino';
import YAML from 'yaml';
import { buildContainer } from '../server/container';
import { createPostgres, migrateLatest } from '../server/lib/db';
import { createCipher } from '../server/lib/crypto';
import {
  BENCH_EMAIL,
  BENCH_MANAGER_EMAIL,
  BENCH_PARTNER_EMAIL,
  BENCH_PASSWORD,
  benchSeed,
} from '../server/seed/bench';
import { benchConfig } from './config';
import { deadlineBench, deadlineSection } from './deadlines';
import { replayable, type BenchMessage, type Statement } from './replay';

const DB_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/aller_vers_bench';
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 8000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PERSONS = Number(process.env.BENCH_PERSONS ?? 20000);
/**
 * BENCH_SIZES=20000,1000000 runs the HTTP scenarios once per size, each on a database of its own
 * named after BENCH_DATABASE_URL's with the size appended (`aller_vers_bench_20000`), seeded when
 * missing or incomplete, and adds the growth of each p95 from the first size to the last.
 * Without it, one size (BENCH_PERSONS) on BENCH_DATABASE_URL itself.
 */
const SIZES = (process.env.BENCH_SIZES ?? '')
  .split(',')
  .map((w) => w.trim())
  .filter(Boolean)
  .map(Number);
/** Where the app child writes its CPU profile (`node --cpu-prof`), when set. */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
/** The deadline scenario: deadlines due at once, worker processes, jobs each runs at once. */
const DEADLINES = Number(process.env.BENCH_DEADLINES ?? 100000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const WORKER_CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 10);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * BENCH_ONLY=<words>, comma-separated: `http` or `deadlines` runs that part alone and rewrites
 * only its part of docs/benchmarks.md; any other word runs the baselines and the HTTP
 * scenarios whose name holds it, printed only (the file is left as it is).
 */
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((w) => w.trim())
  .filter(Boolean);
const SCENARIO_WORDS = ONLY.filter((w) => w !== 'http' && w !== 'deadlines');
const RUN_HTTP = ONLY.length === 0 || ONLY.some((w) => w !== 'deadlines');
const RUN_DEADLINES = ONLY.length === 0 || ONLY.includes('deadlines');

/** The bare handlers each app scenario is compared with. */
const READ_TWIN = 'baseline: bare Express + pg person read (session, user, person, audit)';
const WRITE_TWIN =
  'baseline: bare Express + pg contact write (session, user, lock, contact, audit)';
/** The targets: throughput ÷ handler, and the growth of a p95 from 20 k to 1 M persons. */
const MIN_RATIO = 0.6;
const MAX_GROWTH = 2;
/** The length of each slice of a paired measurement (loadPaired). */
const PAIR_SLICE_MS = 1000;

interface Scenario {
  name: string;
  port: 'app' | 'bare';
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Requests in flight at once (default CONNECTIONS). */
  connections?: number;
  /** Whose session cookie the requests carry. */
  auth?: 'worker' | 'partner' | 'manager';
  /**
   * The handler this scenario is compared with: the person read's, the contact write's, or
   * (the default for an app GET) its replay twin: the bare server running, after its own session
   * and user reads, the very statements the app sent for one request of this scenario.
   */
  twin?: 'read' | 'write' | 'replay';
  /**
   * A hot endpoint of the issue: throughput ≥ 0.6 of its handler, its p95 at most this many
   * times the handler's, growth ≤ 2× from 20 k to 1 M persons.
   */
  p95Max?: number;
}

interface Result {
  scenario: Scenario;
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  /** Largest resident set of the app's process during the scenario, in MB (app scenarios). */
  rssMb: number | null;
  /** CPU ms its server's process spent per request (user + system), null where unknown. */
  cpuMsPerRequest: number | null;
  /** The handler measured in slices alternating with this scenario (loadPaired), if any. */
  paired?: Result;
}

interface SizeRun {
  persons: number;
  data: Record<string, unknown>;
  results: Result[];
  maxRssMb: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function send(
  port: number,
  method: string,
  p: string,
  headers: Record<string, string>,
  body?: string,
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method, path: p, headers, agent },
        (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }),
          );
        },
      );
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    },
  );
}

/** The resident set of a process in MB, from /proc (Linux), or null elsewhere. */
function rssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time a process has used (user + system), in ms, from /proc (Linux), or null elsewhere. */
function cpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Latencies, errors and time spent of one scenario, gathered over one or more slices. */
interface Tally {
  latencies: number[];
  errors: number;
  seconds: number;
  maxRss: number | null;
  /** CPU ms its server's process used during the slices, null where /proc cannot tell. */
  cpuMs: number | null;
}

const newTally = (): Tally => ({ latencies: [], errors: 0, seconds: 0, maxRss: null, cpuMs: 0 });

/** The processes serving the scenarios: the app's and the bare server's. */
type Pids = Partial<Record<'app' | 'bare', number>>;

/** Loads one scenario for `ms` with its connections (CONNECTIONS by default), adding to `t`. */
async function loadSlice(
  ports: Record<string, number>,
  s: Scenario,
  cookies: Record<'worker' | 'partner' | 'manager', string>,
  pids: Pids,
  ms: number,
  t: Tally,
): Promise<void> {
  const appPid = pids.app;
  const body = s.body ? JSON.stringify(s.body) : undefined;
  const headers: Record<string, string> = {
    accept: s.path.startsWith('/api') || s.port === 'bare' ? 'application/json' : 'text/html',
  };
  if (body) headers['content-type'] = 'application/json';
  if (s.auth) headers.cookie = cookies[s.auth];
  const sample = () => {
    const v = s.port === 'app' ? rssMb(appPid) : null;
    if (v !== null && (t.maxRss === null || v > t.maxRss)) t.maxRss = v;
  };
  const sampler = setInterval(sample, 200);
  const cpuBefore = cpuMs(pids[s.port]);
  const end = Date.now() + ms;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: s.connections ?? CONNECTIONS }, async () => {
      while (Date.now() < end) {
        const at = process.hrtime.bigint();
        try {
          const res = await send(ports[s.port], s.method, s.path, headers, body);
          if (res.status >= 400) t.errors++;
        } catch {
          t.errors++;
        }
        t.latencies.push(Number(process.hrtime.bigint() - at) / 1e6);
      }
    }),
  );
  clearInterval(sampler);
  sample();
  const cpuAfter = cpuMs(pids[s.port]);
  t.cpuMs =
    t.cpuMs === null || cpuBefore === null || cpuAfter === null
      ? null
      : t.cpuMs + cpuAfter - cpuBefore;
  t.seconds += (Date.now() - started) / 1000;
}

function toResult(s: Scenario, t: Tally): Result {
  const latencies = [...t.latencies].sort((a, b) => a - b);
  const pct = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    scenario: s,
    name: s.name,
    requests: latencies.length,
    errors: t.errors,
    rps: latencies.length / t.seconds,
    p50: pct(0.5),
    p95: pct(0.95),
    p99: pct(0.99),
    rssMb: t.maxRss,
    cpuMsPerRequest: t.cpuMs === null || !latencies.length ? null : t.cpuMs / latencies.length,
  };
}

/** One scenario alone for DURATION_MS. */
async function load(
  ports: Record<string, number>,
  s: Scenario,
  cookies: Record<'worker' | 'partner' | 'manager', string>,
  pids: Pids,
): Promise<Result> {
  const t = newTally();
  await loadSlice(ports, s, cookies, pids, DURATION_MS, t);
  return toResult(s, t);
}

/**
 * An app scenario and its handler in alternating one-second slices, DURATION_MS each in all:
 * the load of the other users of this shared machine swings within seconds, and this way it
 * falls on both sides of the ratio alike.
 */
async function loadPaired(
  ports: Record<string, number>,
  s: Scenario,
  twin: Scenario,
  cookies: Record<'worker' | 'partner' | 'manager', string>,
  pids: Pids,
): Promise<{ app: Result; twin: Result }> {
  const a = newTally();
  const b = newTally();
  const slices = Math.max(1, Math.round(DURATION_MS / PAIR_SLICE_MS));
  for (let i = 0; i < slices; i++) {
    await loadSlice(ports, s, cookies, pids, PAIR_SLICE_MS, a);
    await loadSlice(ports, twin, cookies, pids, PAIR_SLICE_MS, b);
  }
  return { app: toResult(s, a), twin: toResult(twin, b) };
}

/** The database of one size: BENCH_DATABASE_URL's, with the size appended under BENCH_SIZES. */
function urlFor(persons: number): string {
  if (SIZES.length === 0) return DB_URL;
  const u = new URL(DB_URL);
  u.pathname = `${u.pathname}_${persons}`;
  return u.toString();
}

/** Creates, migrates and seeds (once) the database of one size; returns the seed and its counts. */
/**
 * What the hourly `observation.refresh` deadline does for the bench structure: its default
 * period (the last twelve months) computed and stored, so the observation scenario reads the
 * snapshot as users do between two refreshes. The refresh's own time is printed: it is the
 * price of the precompute, paid once an hour per structure.
 */
async function refreshObservation(url: string, structureId: string) {
  const config = benchConfig(url);
  const deps = await buildContainer(config, {
    db: createPostgres(config, url),
    logger: pino({ level: 'silent' }),
  });
  try {
    const started = Date.now();
    const periods = await deps.knex.transaction((trx) =>
      deps.services.observation.refreshStructure(trx, structureId, new Date()),
    );
    console.log(
      `observation.refresh: ${periods} period(s) computed and stored in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    await deps.close();
  }
}

async function prepare(url: string, persons: number) {
  const dbName = new URL(url).pathname.slice(1);
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const admin = knexFactory({
    client: 'pg',
    connection: adminUrl.toString(),
    pool: { min: 0, max: 1 },
  });
  if (!(await admin('pg_database').where({ datname: dbName }).first()))
    await admin.raw('CREATE DATABASE ??', [dbName]);
  await admin.destroy();

  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
  try {
    await migrateLatest({ knex, kind: 'postgres' });
    console.log(`Seeding ${persons} persons into ${dbName} (each part once per database)…`);
    const seed = await benchSeed(knex, {
      persons,
      cipher: createCipher(benchConfig(url).ENCRYPTION_KEY),
      log: (m) => console.log(m),
    });
    // Dead rows vacuumed and fresh planner statistics, as autovacuum would keep them (it is off
    // on this machine's PostgreSQL): each run adds contacts and audit rows, and each contact
    // rewrites rows of the backlog's counters (half a million dead ones after a few runs at 1 M
    // doubled the backlog's statement, 7.2 to 13.9 ms), and a migration may have rewritten a
    // table (stale statistics once cost search half its throughput between two runs).
    await knex.raw('VACUUM ANALYZE');
    await refreshObservation(url, seed.structureId);
    const sizes = await knex.raw(
      'SELECT (SELECT count(*) FROM persons) AS persons, (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM follow_ups) AS follow_ups, (SELECT count(*) FROM referrals) AS referrals',
    );
    // Contacts are logged on another file than the one the read scenarios read: each run adds
    // hundreds of contacts, which would otherwise lengthen the read person's timeline run by run.
    const other = await knex('persons')
      .where({ structure_id: seed.structureId })
      .whereNot({ id: seed.personId })
      .orderBy('id')
      .first('id');
    return {
      seed,
      writePersonId: other.id as string,
      data: sizes.rows[0] as Record<string, unknown>,
    };
  } finally {
    await knex.destroy();
  }
}

async function main() {
  const sizes = SIZES.length ? SIZES : [PERSONS];
  const file = path.join(__dirname, '..', 'docs', 'benchmarks.md');
  const machine = `${os.cpus().length} cores (load average ${os.loadavg()[0].toFixed(1)} at the start), Node ${process.version}`;
  const runs: SizeRun[] = [];
  let deadlineMd: string[] | null = null;
  for (const [i, persons] of sizes.entries()) {
    const url = urlFor(persons);
    const prepared = await prepare(url, persons);
    if (RUN_HTTP) {
      const run = await httpBench(url, prepared.seed, prepared.writePersonId);
      runs.push({ persons, data: prepared.data, ...run });
    }
    // The deadlines on the first size's database, right after its HTTP part: run after a larger
    // size's, they met pages that size had evicted from PostgreSQL's buffers and the page cache
    // (2026-12-06: 2 136 deadlines/s after the 1 M part, 6 334/s alone).
    if (RUN_DEADLINES && i === 0)
      deadlineMd = await deadlinesOn(url, prepared.seed.structureId, machine);
  }
  agent.destroy();
  const httpMd = RUN_HTTP && SCENARIO_WORDS.length === 0 ? httpSection(runs, machine) : null;
  if (SCENARIO_WORDS.length)
    console.log('\nBENCH_ONLY scenarios: their figures printed, the HTTP part of the file kept.');
  if (!httpMd && !deadlineMd) return;

  // Only the generated blocks are replaced; the analysis written around them is kept.
  let md = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  if (httpMd) md = replaceBlock(md, 'http', httpMd);
  if (deadlineMd) md = replaceBlock(md, 'deadlines', deadlineMd.join('\n'));
  // Written as `npm run format` would write it, so that `npm test` (prettier --check) stays green.
  const options = (await prettier.resolveConfig(file)) ?? {};
  fs.writeFileSync(file, await prettier.format(md, { ...options, filepath: file }));
  console.log('\nWrote docs/benchmarks.md');
}

/** The deadline scenario (bench/deadlines.ts) on one database; its section's lines. */
async function deadlinesOn(url: string, structureId: string, machine: string): Promise<string[]> {
  const dk = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
  try {
    const result = await deadlineBench({
      knex: dk,
      databaseUrl: url,
      redisUrl: REDIS_URL,
      structureId,
      deadlines: DEADLINES,
      workers: WORKERS,
      concurrency: WORKER_CONCURRENCY,
      log: (m) => console.log(m),
    });
    return deadlineSection(result, `${new Date().toISOString().slice(0, 16)}Z`, machine);
  } finally {
    await dk.destroy();
  }
}

/**
 * Replaces the block a part of the bench writes in docs/benchmarks.md, between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; a missing block is appended.
 */
function replaceBlock(md: string, name: string, body: string): string {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n\n${body.trim()}\n\n${close}`;
  const from = md.indexOf(open);
  const to = md.indexOf(close);
  if (from < 0 || to < from) return `${md.trimEnd()}\n\n${block}\n`;
  return md.slice(0, from) + block + md.slice(to + close.length);
}

let compiled: string | null = null;
/**
 * bench/server.ts and the app compiled to JavaScript as `npm run build` compiles them (into
 * bench/results/build, once a run): the servers run as production runs them, `node` without
 * tsx, whose compile cache would otherwise sit in the measured process's memory.
 */
function compiledServer(): string {
  if (compiled) return compiled;
  const root = path.join(__dirname, '..');
  const outDir = path.join(root, 'bench/results/build');
  fs.rmSync(outDir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [path.join(root, 'scripts/build.mjs'), '--outDir', outDir, '--project', 'tsconfig.bench.json'],
    { stdio: 'inherit' },
  );
  compiled = path.join(outDir, 'bench/server.js');
  return compiled;
}

/**
 * The node flags production starts the web with (the V8 heap limits): those of the web
 * service's command in docker-compose.yml, between `node` and the script. The app child runs
 * with them, so the RSS measured here is the one production gets.
 */
function productionWebFlags(): string[] {
  const compose = YAML.parse(
    fs.readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8'),
    { merge: true },
  ) as { services: { web: { command: string[] } } };
  const [node, ...rest] = compose.services.web.command;
  if (node !== 'node') throw new Error('bench: the web service does not start with node');
  return rest.filter((arg) => arg.startsWith('--'));
}

const appFlags = () => productionWebFlags().join(' ') || 'none';

/** Starts one of bench/server.ts's servers in a child process; resolves with its ports. */
async function startServer(
  which: 'app' | 'bare',
  url: string,
  seed: Awaited<ReturnType<typeof benchSeed>>,
): Promise<{ child: ChildProcess; ports: Record<string, number> }> {
  const execArgv: string[] = which === 'app' ? productionWebFlags() : [];
  if (which === 'app' && CPU_PROF_DIR)
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF_DIR)}`);
  const child = fork(compiledServer(), {
    env: {
      ...process.env,
      BENCH_DATABASE_URL: url,
      BENCH_SERVER: which,
      BENCH_STRUCTURE_ID: seed.structureId,
      BENCH_PERSON_ID: seed.personId,
    },
    execArgv,
  });
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, number>));
    child.once('exit', (code) => reject(new Error(`bench ${which} server exited with ${code}`)));
  });
  return { child, ports };
}

/** Sends a message to a bench server and resolves with its answer of type `answer`. */
function ask<T>(child: ChildProcess, message: BenchMessage, answer: string): Promise<T> {
  return new Promise<T>((resolve) => {
    const on = (m: { type?: string }) => {
      if (m?.type !== answer) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(message);
  });
}

/**
 * The replay twin of an app scenario: one request of it is served by the app while the app
 * records the statements it sends (after one request unrecorded, so that caches and the
 * session's touch are as under load), and the bare server is given them to replay.
 */
async function replayTwin(
  app: ChildProcess,
  bare: ChildProcess,
  ports: Record<string, number>,
  s: Scenario,
  cookies: Record<'worker' | 'partner' | 'manager', string>,
  key: string,
): Promise<Scenario> {
  const headers: Record<string, string> = {
    accept: s.path.startsWith('/api') ? 'application/json' : 'text/html',
  };
  if (s.auth) headers.cookie = cookies[s.auth];
  await send(ports.app, s.method, s.path, headers);
  await ask(app, { type: 'record', on: true }, 'recorded');
  const res = await send(ports.app, s.method, s.path, headers);
  if (res.status >= 400) throw new Error(`bench: ${s.name} answered ${res.status}`);
  // An audit row may be written as the answer leaves: let it be sent.
  await new Promise((r) => setTimeout(r, 100));
  const { statements } = await ask<{ statements: Statement[] }>(
    app,
    { type: 'record', on: false },
    'recorded',
  );
  await ask(bare, { type: 'replay', key, statements }, 'replaying');
  if (process.env.BENCH_SHOW_REPLAYS)
    for (const q of replayable(statements))
      console.log(`\n  replays: ${q.sql.replace(/\s+/g, ' ').slice(0, 140)}`);
  return {
    name: `replay twin of ${s.name} (${replayable(statements).length} statements)`,
    port: 'bare',
    method: 'GET',
    path: `/replay/${key}`,
    auth: s.auth,
    connections: s.connections,
  };
}

async function stopServer(child: ChildProcess) {
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.send('stop');
  await exited;
}

/** The HTTP scenarios of one size against the app and the bare baselines. */
async function httpBench(
  url: string,
  seed: Awaited<ReturnType<typeof benchSeed>>,
  writePersonId: string,
): Promise<{ results: Result[]; maxRssMb: number }> {
  console.log(`App process node flags (the web's, docker-compose.yml): ${appFlags()}`);
  const [app, bare] = await Promise.all([
    startServer('app', url, seed),
    startServer('bare', url, seed),
  ]);
  const ports = { ...app.ports, ...bare.ports };
  const pids: Pids = { app: app.child.pid, bare: bare.child.pid };

  async function logIn(email: string): Promise<string> {
    const res = await send(
      ports.app,
      'POST',
      '/api/session',
      { 'content-type': 'application/json' },
      JSON.stringify({ email, password: BENCH_PASSWORD }),
    );
    if (res.status !== 200) throw new Error(`bench login failed: ${res.status} ${res.body}`);
    return String(res.headers['set-cookie']?.[0] ?? '').split(';')[0];
  }
  const cookies = {
    worker: await logIn(BENCH_EMAIL),
    partner: await logIn(BENCH_PARTNER_EMAIL),
    manager: await logIn(BENCH_MANAGER_EMAIL),
  };
  const contactBody = {
    occurredAt: '2026-11-29T10:00:00+01:00',
    channel: 'phone',
    outcome: 'not_reached',
    summary: 'Message laissé',
  };

  const scenarios: Scenario[] = [
    { name: 'baseline: bare Express hello JSON', port: 'bare', method: 'GET', path: '/hello' },
    {
      name: 'baseline: bare Express + knex select by id',
      port: 'bare',
      method: 'GET',
      path: `/person/${seed.personId}`,
    },
    {
      name: READ_TWIN,
      port: 'bare',
      method: 'GET',
      path: `/read/${seed.personId}`,
      auth: 'worker',
    },
    {
      name: WRITE_TWIN,
      port: 'bare',
      method: 'POST',
      path: `/contact/${writePersonId}`,
      auth: 'worker',
      body: contactBody,
    },
    {
      name: 'GET /healthz (full middleware, no session)',
      port: 'app',
      method: 'GET',
      path: '/healthz',
    },
    {
      name: 'GET /api/me (session + user read)',
      port: 'app',
      method: 'GET',
      path: '/api/me',
      auth: 'worker',
    },
    {
      name: 'GET /api/persons/:id (scoped read + audit write)',
      port: 'app',
      method: 'GET',
      path: `/api/persons/${seed.personId}`,
      auth: 'worker',
      twin: 'read',
      p95Max: 1.5,
    },
    {
      name: 'GET /api/persons?q=lefevre (trigram search)',
      port: 'app',
      method: 'GET',
      path: '/api/persons?q=lefevre',
      auth: 'worker',
      p95Max: 2,
    },
    {
      name: 'GET /api/follow-ups?assignee=me&overdue=true',
      port: 'app',
      method: 'GET',
      path: '/api/follow-ups?assignee=me&overdue=true',
      auth: 'worker',
    },
    {
      name: 'POST /api/persons/:id/contacts (encrypted write + audit)',
      port: 'app',
      method: 'POST',
      path: `/api/persons/${writePersonId}/contacts`,
      auth: 'worker',
      body: contactBody,
      twin: 'write',
      p95Max: 1.5,
    },
    {
      name: 'GET /api/persons/:id/timeline (paged in SQL)',
      port: 'app',
      method: 'GET',
      path: `/api/persons/${seed.personId}/timeline`,
      auth: 'worker',
    },
    {
      name: 'GET /personnes/:id (person file page, HTML)',
      port: 'app',
      method: 'GET',
      path: `/personnes/${seed.personId}`,
      auth: 'worker',
      p95Max: 2,
    },
    {
      name: 'GET /api/referrals?mine=true (worker)',
      port: 'app',
      method: 'GET',
      path: '/api/referrals?mine=true',
      auth: 'worker',
    },
    {
      name: 'GET /api/referrals (partner inbox, consent-scoped)',
      port: 'app',
      method: 'GET',
      path: '/api/referrals',
      auth: 'partner',
    },
    {
      name: 'GET /api/referrals/:id (partner view)',
      port: 'app',
      method: 'GET',
      path: `/api/referrals/${seed.referralId}`,
      auth: 'partner',
    },
    {
      name: 'GET /api/backlog (manager, whole structure)',
      port: 'app',
      method: 'GET',
      path: '/api/backlog',
      auth: 'manager',
      p95Max: 2,
    },
    {
      name: 'GET /api/backlog?groupBy=district (manager, whole structure)',
      port: 'app',
      method: 'GET',
      path: '/api/backlog?groupBy=district',
      auth: 'manager',
    },
    {
      name: 'GET /api/backlog?groupBy=partner (manager, whole structure)',
      port: 'app',
      method: 'GET',
      path: '/api/backlog?groupBy=partner',
      auth: 'manager',
    },
    {
      name: 'GET /api/persons/duplicates?lastName=lefevre&birthYear=1960',
      port: 'app',
      method: 'GET',
      path: '/api/persons/duplicates?lastName=lefevre&birthYear=1960',
      auth: 'worker',
    },
    {
      name: 'GET /api/observation?by=district (manager, twelve months, whole structure)',
      port: 'app',
      method: 'GET',
      path: '/api/observation?by=district',
      auth: 'manager',
    },
    {
      // The observation target (≤ 300 ms for a year, whole structure) is the time of one
      // request: measured here with one connection, nothing queued behind other requests.
      name: 'GET /api/observation?by=district (one connection: a request alone)',
      port: 'app',
      method: 'GET',
      path: '/api/observation?by=district',
      auth: 'manager',
      connections: 1,
    },
    {
      name: 'GET /api/persons/:id/rights',
      port: 'app',
      method: 'GET',
      path: `/api/persons/${seed.personId}/rights`,
      auth: 'worker',
    },
  ];

  const chosen = SCENARIO_WORDS.length
    ? scenarios.filter((s) => s.port === 'bare' || SCENARIO_WORDS.some((w) => s.name.includes(w)))
    : scenarios;
  const results: Result[] = [];
  try {
    const line = (r: Result) =>
      `${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, errors ${r.errors}` +
      (r.cpuMsPerRequest !== null ? `, CPU ${r.cpuMsPerRequest.toFixed(2)} ms/req` : '') +
      (r.rssMb !== null ? `, RSS ≤ ${r.rssMb.toFixed(0)} MB` : '');
    for (const [i, s] of chosen.entries()) {
      process.stdout.write(`${s.name} … `);
      const twin =
        s.port !== 'app'
          ? undefined
          : twinKind(s) === 'replay'
            ? await replayTwin(app.child, bare.child, ports, s, cookies, String(i))
            : twinScenario(scenarios, s);
      if (twin) {
        // Paired with its handler; the ratios of its row come from the pair.
        const { app: r, twin: t } = await loadPaired(ports, s, twin, cookies, pids);
        results.push({ ...r, paired: t });
        console.log(`${line(r)}; its handler alongside: ${line(t)}`);
      } else {
        const r = await load(ports, s, cookies, pids);
        results.push(r);
        console.log(line(r));
      }
    }
  } finally {
    await Promise.all([stopServer(app.child), stopServer(bare.child)]);
  }
  const maxRssMb = Math.max(0, ...results.map((r) => r.rssMb ?? 0));
  console.log(`App process RSS under load: at most ${maxRssMb.toFixed(0)} MB`);
  return { results, maxRssMb };
}

/** An app scenario's twin: as declared, else its replay for a GET. */
const twinKind = (s: Scenario) => s.twin ?? (s.method === 'GET' && s.auth ? 'replay' : 'read');

const twinScenario = (scenarios: Scenario[], s: Scenario) =>
  scenarios.find((t) => t.name === (s.twin === 'write' ? WRITE_TWIN : READ_TWIN));

/** The handler a row is compared with: the one measured alongside it, else the handler's row. */
const twinOf = (results: Result[], r: Result) =>
  r.paired ??
  results.find((t) => t.name === (twinKind(r.scenario) === 'write' ? WRITE_TWIN : READ_TWIN));

const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

/** One size's table: each scenario against its handler, with the targets. */
function sizeTable(run: SizeRun, growthFrom: SizeRun | null): string[] {
  const head = [
    'scenario',
    'req/s',
    'handler req/s',
    'req/s ÷ handler',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'handler p95 ms',
    'p95 ÷ handler',
    'target',
    'CPU ms/req',
    'handler CPU ms/req',
    'errors',
    'RSS MB',
  ];
  if (growthFrom) head.push(`p95 growth from ${growthFrom.persons}`);
  const rows = run.results.map((r) => {
    const twin = twinOf(run.results, r);
    const isApp = r.scenario.port === 'app';
    const ratio = isApp && twin ? r.rps / twin.rps : null;
    const p95Ratio = isApp && twin ? r.p95 / twin.p95 : null;
    const targets: string[] = [];
    if (r.scenario.p95Max && ratio !== null && p95Ratio !== null) {
      targets.push(`req/s ≥ ${MIN_RATIO}: ${verdict(ratio >= MIN_RATIO)}`);
      targets.push(`p95 ≤ ${r.scenario.p95Max}×: ${verdict(p95Ratio <= r.scenario.p95Max)}`);
    }
    const cells = [
      r.name +
        (isApp && twinKind(r.scenario) === 'write'
          ? ' (vs the write handler)'
          : isApp && twinKind(r.scenario) === 'replay'
            ? ` (vs its replay, ${r.paired?.name.match(/\((\d+) statements\)$/)?.[1] ?? '?'} statements)`
            : ''),
      r.rps.toFixed(0),
      isApp && twin ? twin.rps.toFixed(0) : '',
      ratio === null ? '' : ratio.toFixed(2),
      r.p50.toFixed(1),
      r.p95.toFixed(1),
      r.p99.toFixed(1),
      isApp && twin ? twin.p95.toFixed(1) : '',
      p95Ratio === null ? '' : p95Ratio.toFixed(2),
      targets.join('; '),
      r.cpuMsPerRequest === null ? '' : r.cpuMsPerRequest.toFixed(2),
      isApp && twin?.cpuMsPerRequest != null ? twin.cpuMsPerRequest.toFixed(2) : '',
      String(r.errors),
      r.rssMb === null ? '' : r.rssMb.toFixed(0),
    ];
    if (growthFrom) {
      const before = growthFrom.results.find((b) => b.name === r.name);
      const growth = before ? r.p95 / before.p95 : null;
      cells.push(
        growth === null
          ? ''
          : `${growth.toFixed(2)}×` +
              (isApp && r.scenario.p95Max ? ` ${verdict(growth <= MAX_GROWTH)}` : ''),
      );
    }
    return `| ${cells.join(' | ')} |`;
  });
  const d = run.data;
  return [
    `### ${run.persons} persons`,
    '',
    `Data: ${d.persons} persons, ${d.contacts} contacts, ${d.follow_ups} follow-ups, ${d.referrals} referrals. ` +
      `App process RSS under load: at most ${run.maxRssMb.toFixed(0)} MB (target ≤ 200 MB: ${verdict(run.maxRssMb <= 200)}).`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows,
    '',
  ];
}

/** The HTTP part of docs/benchmarks.md: how it is measured, a table per size, what it means. */
function httpSection(runs: SizeRun[], machine: string): string {
  const command =
    (SIZES.length ? `BENCH_SIZES=${SIZES.join(',')} ` : '') +
    (ONLY.length ? `BENCH_ONLY=${ONLY.join(',')} ` : '') +
    'npm run bench';
  return [
    'Produced by `npm run bench` (bench/run.ts). The app runs in one child process, the bare',
    'baselines in another (bench/server.ts); the load comes from the parent over keep-alive HTTP.',
    'The machine is shared and noisy: compare the ratio columns (each app scenario against a bare',
    'handler measured in the same run), not absolute figures across runs.',
    '',
    'The handler of the issue\'s targets ("a bare Express + pg handler running the same essential',
    'statements") is `GET /read/:id` of the bare server: node-postgres Pool, no knex, no session',
    'middleware; it checks the signed session cookie, reads the session row by sid, reads the',
    "user, runs the app's own person statement (captured from the app's repository at start: the",
    'person scoped by structure, with its district, referent and derived status) and inserts the',
    'audit row, committed on its own as the app does. Logging a contact is compared with its write',
    'twin `POST /contact/:id`: session and user, then in one transaction the person locked in',
    'scope by the UPDATE that moves its last activity (as the app locks it for a contact), the',
    'contact (summary encrypted with the same cipher) and the audit row. Every other app GET',
    'with a session is compared with its replay twin (`GET /replay/<n>` of the bare server,',
    'bench/replay.ts): just before its measure, one request of it is served by the app while',
    'the app records every statement it sends through knex; the bare server then checks the',
    "cookie's signature and replays them (the session read, the queries, transaction statements",
    'and audit insert, in the order sent, on one connection): the same statements with none of',
    "the app's JavaScript. Its row's name says how many statements that is. The app reads a",
    'session and its user in one statement (a join); the person read and contact write handlers',
    "keep the issue's two (session read, then user read). Each app",
    `scenario runs in one-second slices alternating with its handler (${DURATION_MS / 1000} s each in all), and its`,
    "row's handler columns are that handler's figures from those slices: the other users of this",
    'machine come and go within seconds, and so weigh on both sides of the ratio alike. The',
    "handlers' own rows are measured alone, at the start. Targets",
    `(issue 13), for the hot endpoints: throughput ≥ ${MIN_RATIO} of the handler; p95 ≤ 1.5× the`,
    "handler's for the person read and logging a contact, ≤ 2× for search, the backlog and the",
    `person page; p95 growth ≤ ${MAX_GROWTH}× from the smallest size to the largest; the app`,
    "process's resident set (sampled every 200 ms from /proc) ≤ 200 MB under load. The CPU",
    'columns are the CPU time (user + system, from /proc) the serving process spent per request',
    "in the same slices: beside its twin's, what the app's own JavaScript costs a request (both",
    'grow when the machine is busy, so compare them within a row). The app process',
    `runs with the node flags production starts the web with (docker-compose.yml): \`${appFlags()}\`.`,
    '',
    `Run: ${new Date().toISOString().slice(0, 16)}Z, ${machine}, ${CONNECTIONS} connections, ` +
      `${DURATION_MS / 1000} s per scenario, with \`${command}\`.`,
    '',
    ...runs.flatMap((run, i) => sizeTable(run, i > 0 && runs.length > 1 ? runs[0] : null)),
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
