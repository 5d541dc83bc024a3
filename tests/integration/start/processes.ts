import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { transformFileSync } from '@swc/core';
import { Redis } from 'ioredis';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../../setup/env';

/** Helpers to run the real entry points (server/index.ts, server/cli/index.ts) as processes. */

export const ROOT = path.resolve(__dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/**
 * The test runner's environment without what would point a child at the wrong database; Redis is
 * the test one unless `extra` says otherwise.
 */
export function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: TEST_REDIS_URL };
  for (const k of ['DATABASE_URL', 'TEST_DATABASE_URL', 'NODE_OPTIONS', 'JEST_WORKER_ID'])
    delete env[k];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * A process on the test PostgreSQL and Redis with its queue keys under `prefix` (for
 * removeRedisKeys); `extra` adds to it or overrides it.
 */
export function testServicesEnv(
  prefix: string,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  return childEnv({ DATABASE_URL: TEST_DATABASE_URL, QUEUE_PREFIX: prefix, ...extra });
}

/** The same for a web listening on 127.0.0.1:`port`. */
export function webEnv(
  port: number,
  prefix: string,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  return testServicesEnv(prefix, { PORT: String(port), HOST: '127.0.0.1', ...extra });
}

const secret = (c: string) => c.repeat(40);

/** What production requires of a process's environment besides its PUBLIC_URL (placeholders). */
export const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  SESSION_SECRET: secret('s'),
  LINK_SECRET: secret('l'),
  ENCRYPTION_KEY: '1'.repeat(64),
  // Required in production; nothing is sent by these tests.
  SMTP_URL: 'smtp://127.0.0.1:2525',
  MAIL_FROM: 'CCAS <no-reply@ccas.example>',
};

export interface Running {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/**
 * Starts a TypeScript script in one node process with tsx's loader (no tsx wrapper process, so a
 * SIGKILL reaches the script itself), or a compiled one with plain node (`compiled`), in the
 * project folder unless `cwd` says otherwise.
 */
export function start(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { compiled?: boolean; cwd?: string } = {},
): Running {
  const loader = opts.compiled ? [] : ['--import', 'tsx'];
  return tracked(
    spawn(process.execPath, [...loader, script, ...args], {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: 'pipe',
    }),
  );
}

/** A started process with its output (stdout and stderr together) and its exit. */
function tracked(child: ChildProcess): Running {
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, output: () => out, exited };
}

export interface Result {
  code: number | string;
  stdout: string;
  stderr: string;
}

/**
 * server/, jobs/ and migrations/ compiled to JavaScript by swc with jest's settings (no type
 * check: `npm run typecheck` does that), in well under a second, into a scratch folder under
 * test-output/ (inside the project, as dist/ is: node_modules and package.json are found by
 * walking up). A test that starts the CLI many times runs it from there with plain node: each
 * start then costs a fraction of tsx's, whose loader resolves and reads every module through its
 * cache. `npm run build` (tsc) is tested by build.test.ts; the CLI through tsx by
 * pglite-start.test.ts. Call `remove` when done.
 */
export function compileWithSwc(): { dir: string; remove(): void } {
  const dir = path.join(ROOT, 'test-output', `swc-${crypto.randomBytes(4).toString('hex')}`);
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const file = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const { code } = transformFileSync(path.join(ROOT, file), {
          swcrc: false,
          jsc: {
            parser: { syntax: 'typescript', tsx: entry.name.endsWith('.tsx') },
            transform: { react: { runtime: 'automatic', importSource: 'preact' } },
            target: 'es2022',
          },
          module: { type: 'commonjs' },
        });
        const out = path.join(dir, file.replace(/\.tsx?$/, '.js'));
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, code);
      }
    }
  };
  for (const rel of ['server', 'jobs', 'migrations']) walk(rel);
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs the CLI to completion, writing `stdin` to its standard input: through tsx, or from a
 * folder of compileWithSwc with plain node (`compiled`).
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin = '',
  compiled?: string,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const [command, script] = compiled
      ? [process.execPath, path.join(compiled, 'server', 'cli', 'index.js')]
      : [TSX, 'server/cli/index.ts'];
    const child = spawn(command, [script, ...args], { cwd: ROOT, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Polls until the URL answers 200, the process dies, or the time is up. */
export async function waitForHealthy(url: string, proc: Running, timeoutMs: number): Promise<void> {
  let ended = false;
  void proc.exited.then(() => (ended = true));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (ended) throw new Error(`the process exited before answering:\n${proc.output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms:\n${proc.output()}`);
}

/** Waits for the exit, killing the process if it outlives the bound (so a test never hangs). */
export async function exitWithin(proc: Running, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    proc.exited,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (code === 'timeout') {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  return code;
}

/** Logs in through the API and returns the session cookie. */
export async function login(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get('set-cookie');
  if (!cookie) throw new Error('login set no cookie');
  return cookie.split(';')[0];
}

/** Polls until the process has printed `text`; fails if it exits first or the time is up. */
export async function waitForOutput(proc: Running, text: string, timeoutMs: number): Promise<void> {
  let ended = false;
  void proc.exited.then(() => (ended = true));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.output().includes(text)) return;
    if (ended) throw new Error(`the process exited before printing "${text}":\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`"${text}" not printed within ${timeoutMs} ms:\n${proc.output()}`);
}

/**
 * Runs an npm script as a user or a container does (`npm start`, `npm run worker`): a signal
 * sent to the returned process reaches npm, which must pass it on to the server below it.
 */
export function startNpmScript(
  script: string,
  env: NodeJS.ProcessEnv,
): Running & { killGroup: () => void } {
  // In a process group of its own, so that a test can reap whatever npm left running.
  const child = spawn('npm', ['run', '--silent', script], {
    cwd: ROOT,
    env,
    stdio: 'pipe',
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* the group is gone */
    }
  };
  return { ...tracked(child), killGroup };
}

/** Removes the Redis keys a started process wrote under its QUEUE_PREFIX. */
export async function removeRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
