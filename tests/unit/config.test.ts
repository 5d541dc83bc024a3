import { parseConfig } from '../../server/config';

/** The production secrets, so each test below varies only what it is about. */
const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://aller_vers@db:5432/aller_vers',
  ENCRYPTION_KEY: 'c3'.repeat(32),
  SESSION_SECRET: 'a production secret of more than thirty-two characters',
  LINK_SECRET: 'another production secret of more than thirty-two chars',
  SMTP_URL: 'smtp://mail.aller-vers.example:587',
  MAIL_FROM: 'CCAS de Trélazé <no-reply@ccas-trelaze.example>',
};

describe('configuration: where users reach the app (PUBLIC_URL, ALLOW_INSECURE_HTTP)', () => {
  it('when production has no PUBLIC_URL, then it is refused saying PUBLIC_URL is required', () => {
    expect(() => parseConfig(PRODUCTION)).toThrow(
      /PUBLIC_URL: PUBLIC_URL is required in production/,
    );
  });

  it('when production has an http PUBLIC_URL without the opt-in, then it is refused naming ALLOW_INSECURE_HTTP', () => {
    expect(() => parseConfig({ ...PRODUCTION, PUBLIC_URL: 'http://localhost:3000' })).toThrow(
      /PUBLIC_URL: PUBLIC_URL must be https:\/\/ in production; .*ALLOW_INSECURE_HTTP=true/,
    );
    expect(() =>
      parseConfig({
        ...PRODUCTION,
        PUBLIC_URL: 'http://localhost:3000',
        ALLOW_INSECURE_HTTP: 'false',
      }),
    ).toThrow(/must be https:\/\//);
  });

  it('when production has an http PUBLIC_URL and ALLOW_INSECURE_HTTP=true, then it starts (a local trial)', () => {
    const c = parseConfig({
      ...PRODUCTION,
      PUBLIC_URL: 'http://localhost:3000',
      ALLOW_INSECURE_HTTP: 'true',
    });
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.ALLOW_INSECURE_HTTP).toBe(true);
  });

  it('when production has an https PUBLIC_URL, then no opt-in is needed', () => {
    const c = parseConfig({ ...PRODUCTION, PUBLIC_URL: 'https://aller-vers.example' });
    expect(c.publicUrl).toBe('https://aller-vers.example');
    expect(c.ALLOW_INSECURE_HTTP).toBe(false);
  });

  it('when ALLOW_INSECURE_HTTP is neither true nor false, then it is refused', () => {
    expect(() =>
      parseConfig({ ...PRODUCTION, PUBLIC_URL: 'http://localhost:3000', ALLOW_INSECURE_HTTP: '1' }),
    ).toThrow(/ALLOW_INSECURE_HTTP/);
  });

  it('when PUBLIC_URL is not an http or https address, then it is refused', () => {
    expect(() => parseConfig({ PUBLIC_URL: 'ftp://aller-vers.example' })).toThrow(
      /PUBLIC_URL: must be an http:\/\/ or https:\/\/ address/,
    );
  });

  it('when PUBLIC_URL ends with a slash, then it is kept as its origin, so links built from it have one slash', () => {
    for (const given of ['https://aller-vers.example/', 'https://Aller-Vers.example:443/']) {
      const c = parseConfig({ ...PRODUCTION, PUBLIC_URL: given });
      expect(c.publicUrl).toBe('https://aller-vers.example');
      expect(c.PUBLIC_URL).toBe('https://aller-vers.example');
    }
    expect(parseConfig({ PUBLIC_URL: 'http://localhost:3000/' }).publicUrl).toBe(
      'http://localhost:3000',
    );
  });

  it('when PUBLIC_URL has a path, a query or credentials, then it is refused naming PUBLIC_URL (the app is served at its root)', () => {
    for (const given of [
      'https://ccas.example/aller-vers',
      'https://ccas.example/aller-vers/',
      'https://aller-vers.example/?x=1',
      'https://aller-vers.example/#top',
      'https://admin:secret@aller-vers.example',
    ])
      expect(() => parseConfig({ ...PRODUCTION, PUBLIC_URL: given })).toThrow(
        /PUBLIC_URL: PUBLIC_URL must be the root address of the app, without a path/,
      );
  });

  it('when development has no PUBLIC_URL, then it is the local address', () => {
    expect(parseConfig({}).publicUrl).toBe('http://127.0.0.1:3000');
    expect(parseConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
  });
});

describe('configuration: where emails go (SMTP_URL, MAIL_FROM)', () => {
  const HTTPS = { ...PRODUCTION, PUBLIC_URL: 'https://aller-vers.example' };

  it('when production has no SMTP_URL, then it is refused naming SMTP_URL (emails would be dropped and counted as sent)', () => {
    const { SMTP_URL: _smtp, ...withoutSmtp } = HTTPS;
    for (const env of [withoutSmtp, { ...HTTPS, SMTP_URL: '' }])
      expect(() => parseConfig(env)).toThrow(/SMTP_URL: SMTP_URL is required in production/);
  });

  it('when production keeps the default .local sender, then it is refused naming MAIL_FROM', () => {
    const { MAIL_FROM: _from, ...withoutFrom } = HTTPS;
    for (const env of [
      withoutFrom,
      { ...HTTPS, MAIL_FROM: 'aller-vers <no-reply@aller-vers.local>' },
    ])
      expect(() => parseConfig(env)).toThrow(/MAIL_FROM: set MAIL_FROM in production/);
  });

  it('when production sets both, then they are used as given', () => {
    const c = parseConfig(HTTPS);
    expect(c.SMTP_URL).toBe('smtp://mail.aller-vers.example:587');
    expect(c.MAIL_FROM).toBe('CCAS de Trélazé <no-reply@ccas-trelaze.example>');
  });

  it('when development has neither, then it starts (emails are logged, not delivered)', () => {
    const c = parseConfig({});
    expect(c.SMTP_URL).toBeUndefined();
    expect(c.MAIL_FROM).toBe('aller-vers <no-reply@aller-vers.local>');
  });
});

describe('configuration: which proxies are trusted (TRUST_PROXY)', () => {
  const trust = (v: string) => parseConfig({ TRUST_PROXY: v }).TRUST_PROXY;

  it('when TRUST_PROXY is true, then it is refused, saying the client writes X-Forwarded-For and what to give instead', () => {
    for (const v of ['true', 'TRUE'])
      expect(() => trust(v)).toThrow(
        /TRUST_PROXY: true is refused: it trusts every X-Forwarded-For entry, and the client writes the first one .*give the number of proxies/,
      );
    // In production as everywhere else.
    expect(() =>
      parseConfig({ ...PRODUCTION, PUBLIC_URL: 'https://aller-vers.example', TRUST_PROXY: 'true' }),
    ).toThrow(/TRUST_PROXY: true is refused/);
  });

  it('when TRUST_PROXY is a hop count, then express gets the number', () => {
    expect(trust('1')).toBe(1);
    expect(trust('2')).toBe(2);
  });

  it('when TRUST_PROXY lists addresses, subnets and named ranges, then express gets the list', () => {
    expect(trust('10.0.0.0/8, 192.168.1.7,fd00::/8, loopback')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
      'loopback',
    ]);
    expect(parseConfig({}).TRUST_PROXY).toEqual(['loopback']);
    expect(trust('false')).toBe(false);
  });

  it('when an entry is neither an address, a subnet nor a named range, then it is refused naming it', () => {
    expect(() => trust('loopback, proxy.internal')).toThrow(/TRUST_PROXY: .*not "proxy.internal"/);
    expect(() => trust('10.0.0.0/33')).toThrow(/not "10.0.0.0\/33"/);
    expect(() => trust('1.5')).toThrow(/not "1.5"/);
  });
});

describe('configuration: re-arming failed deadlines (DEADLINE_RETRY_COOLDOWN_MS, DEADLINE_GIVE_UP_HOURS)', () => {
  it('when unset, then the cool-down is 5 minutes and deadlines are given up 72 hours past their due moment', () => {
    const c = parseConfig({});
    expect(c.DEADLINE_RETRY_COOLDOWN_MS).toBe(300_000);
    expect(c.DEADLINE_GIVE_UP_HOURS).toBe(72);
  });

  it('when set, then they are read as numbers', () => {
    const c = parseConfig({ DEADLINE_RETRY_COOLDOWN_MS: '50', DEADLINE_GIVE_UP_HOURS: '24' });
    expect(c.DEADLINE_RETRY_COOLDOWN_MS).toBe(50);
    expect(c.DEADLINE_GIVE_UP_HOURS).toBe(24);
  });

  it('when a value is not a whole number in range, then it is refused naming the setting', () => {
    expect(() => parseConfig({ DEADLINE_RETRY_COOLDOWN_MS: 'soon' })).toThrow(
      /DEADLINE_RETRY_COOLDOWN_MS/,
    );
    expect(() => parseConfig({ DEADLINE_RETRY_COOLDOWN_MS: '5' })).toThrow(
      /DEADLINE_RETRY_COOLDOWN_MS/,
    );
    expect(() => parseConfig({ DEADLINE_GIVE_UP_HOURS: '0' })).toThrow(/DEADLINE_GIVE_UP_HOURS/);
    expect(() => parseConfig({ DEADLINE_GIVE_UP_HOURS: '1.5' })).toThrow(/DEADLINE_GIVE_UP_HOURS/);
  });
});

describe('configuration: the private metrics port (METRICS_PORT, METRICS_HOST)', () => {
  it('when unset, then there is no private port and its interface defaults to the loopback', () => {
    const c = parseConfig({});
    expect(c.METRICS_PORT).toBeUndefined();
    expect(c.METRICS_HOST).toBe('127.0.0.1');
  });

  it('when set, then it is a port number; anything else is refused naming it', () => {
    expect(parseConfig({ METRICS_PORT: '9464' }).METRICS_PORT).toBe(9464);
    expect(() => parseConfig({ METRICS_PORT: 'prometheus' })).toThrow(/METRICS_PORT/);
    expect(() => parseConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });
});

describe('configuration: each worker process (WORKER_CONCURRENCY, WORKER_LOCK_DURATION_MS, WORKER_STALLED_INTERVAL_MS)', () => {
  it('when unset, then a worker runs 5 jobs at once and a dead worker’s jobs are taken over after 30 s locks checked every 30 s', () => {
    const c = parseConfig({});
    expect(c.WORKER_CONCURRENCY).toBe(5);
    expect(c.WORKER_LOCK_DURATION_MS).toBe(30_000);
    expect(c.WORKER_STALLED_INTERVAL_MS).toBe(30_000);
  });

  it('when set, then they are read as numbers', () => {
    const c = parseConfig({
      WORKER_CONCURRENCY: '20',
      WORKER_LOCK_DURATION_MS: '5000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    });
    expect(c.WORKER_CONCURRENCY).toBe(20);
    expect(c.WORKER_LOCK_DURATION_MS).toBe(5000);
    expect(c.WORKER_STALLED_INTERVAL_MS).toBe(1000);
  });

  it('when a value is out of range, then it is refused naming the setting', () => {
    expect(() => parseConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY/);
    expect(() => parseConfig({ WORKER_LOCK_DURATION_MS: '10' })).toThrow(/WORKER_LOCK_DURATION_MS/);
    expect(() => parseConfig({ WORKER_STALLED_INTERVAL_MS: 'often' })).toThrow(
      /WORKER_STALLED_INTERVAL_MS/,
    );
  });
});
