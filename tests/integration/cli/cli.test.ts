import { spawn } from 'node:child_process';
import path from 'node:path';
import { verifyPassword } from '../../../server/auth/passwords';
import { createCipher } from '../../../server/lib/crypto';
import { testKnex } from '../../setup/db';
import { TEST_DATABASE_URL } from '../../setup/env';
import { createPartner, createStructure } from '../../setup/factories';
import { childEnv, compileWithSwc, runCli } from '../start/processes';

// Each case spawns the real CLI, compiled once for the file (the CLI through tsx:
// tests/integration/start/pglite-start.test.ts).
jest.setTimeout(60_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = '2'.repeat(64);
const env = childEnv({
  DATABASE_URL: TEST_DATABASE_URL,
  NODE_ENV: 'development',
  ENCRYPTION_KEY: KEY,
  LOG_LEVEL: 'silent',
});
let compiled: ReturnType<typeof compileWithSwc>;
beforeAll(() => {
  compiled = compileWithSwc();
});
afterAll(() => compiled.remove());
const cli = (args: string[], stdin = '') => runCli(args, env, stdin, compiled.dir);
const PASSWORD = 'une phrase de passe assez longue';

describe('CLI structures:create', () => {
  it('creates a structure and prints its id alone on stdout', async () => {
    const r = await cli([
      'structures:create',
      '--name',
      'CCAS de Trélazé',
      '--slug',
      'trelaze',
      '--city',
      'Trélazé',
    ]);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(UUID);
    const row = await testKnex()('structures').where({ id }).first();
    expect(row).toMatchObject({ name: 'CCAS de Trélazé', slug: 'trelaze', city: 'Trélazé' });
    // It comes with the seeded catalogue of rights: national rights and the CCAS's aids.
    const rights = await testKnex()('rights').where({ structure_id: id });
    expect(rights.map((r) => r.code)).toEqual(
      expect.arrayContaining([
        'rsa',
        'prime_activite',
        'apl',
        'css',
        'aah',
        'aspa',
        'domiciliation',
      ]),
    );
    expect(new Set(rights.map((r) => r.kind))).toEqual(new Set(['national', 'local']));
  });

  it('when the slug is taken, then it exits 1 saying so', async () => {
    const s = await createStructure();
    const r = await cli(['structures:create', '--name', 'Autre', '--slug', s.slug]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`error: A structure with slug "${s.slug}" already exists`);
  });

  it('when the slug has capitals or spaces, then it exits 1 naming --slug', async () => {
    const r = await cli(['structures:create', '--name', 'CCAS', '--slug', 'Mon CCAS']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --slug: /);
  });

  it('when --name is missing, then it exits 1 naming --name', async () => {
    const r = await cli(['structures:create', '--slug', 'sans-nom']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --name: /);
  });
});

describe('CLI users:create', () => {
  let structure: { id: string; slug: string };
  beforeAll(async () => {
    structure = await createStructure();
  });

  const create = (email: string, extra: string[] = [], stdin = `${PASSWORD}\n`, role = 'worker') =>
    cli(
      ['users:create', '--email', email, '--name', 'Léa Martin', '--role', role, ...extra],
      stdin,
    );

  it('creates a worker in the structure named by slug, with an argon2id hash of the stdin password', async () => {
    const r = await create('lea.martin@ccas.test', ['--structure', structure.slug]);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(UUID);
    const row = await testKnex()('users').where({ id }).first();
    expect(row).toMatchObject({
      email: 'lea.martin@ccas.test',
      name: 'Léa Martin',
      role: 'worker',
      structure_id: structure.id,
      partner_id: null,
    });
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await verifyPassword(row.password_hash, PASSWORD)).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('accepts the structure id instead of the slug', async () => {
    const r = await create('par.id@ccas.test', ['--structure', structure.id]);
    expect(r.code).toBe(0);
    const row = await testKnex()('users').where({ id: r.stdout.trim() }).first();
    expect(row.structure_id).toBe(structure.id);
  });

  it('creates a partner user attached to its organisation with --partner', async () => {
    const partner = await createPartner(testKnex(), undefined, structure.id);
    const r = await create(
      'benevole@banque.test',
      ['--structure', structure.slug, '--partner', partner.id],
      undefined,
      'partner',
    );
    expect(r.code).toBe(0);
    const row = await testKnex()('users').where({ id: r.stdout.trim() }).first();
    expect(row).toMatchObject({ role: 'partner', partner_id: partner.id });
  });

  it('when the role is unknown, then it exits 1 listing the roles', async () => {
    const r = await create('x@ccas.test', ['--structure', structure.slug], `${PASSWORD}\n`, 'boss');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error: --role: must be one of worker, manager, partner, observer, admin',
    );
  });

  it('when the structure is unknown, then it exits 1 naming it', async () => {
    const r = await create('y@ccas.test', ['--structure', 'nulle-part']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: Structure "nulle-part" not found');
  });

  it('when the email is taken (in any case), then it exits 1 and creates nothing', async () => {
    await create('double@ccas.test', ['--structure', structure.slug]);
    const r = await create('DOUBLE@ccas.test', ['--structure', structure.slug]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: A user with email DOUBLE@ccas.test already exists');
    const rows = await testKnex()('users').whereRaw("lower(email) = 'double@ccas.test'");
    expect(rows).toHaveLength(1);
  });

  it('when the password is too short, then it exits 1 and creates nothing', async () => {
    const r = await create('court@ccas.test', ['--structure', structure.slug], 'court\n');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: The password must be 12 to 128 characters long');
    expect(await testKnex()('users').where({ email: 'court@ccas.test' }).first()).toBeUndefined();
  });

  it('when the password is a common one, then it exits 1', async () => {
    const r = await create('commun@ccas.test', ['--structure', structure.slug], 'password1234\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/too common/);
  });

  it('when standard input is empty, then it exits 1 about the password', async () => {
    const r = await create('vide@ccas.test', ['--structure', structure.slug], '');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/password must be 12 to 128/);
  });

  it('when the role is partner without --partner, then it exits 1', async () => {
    const r = await create(
      'p@ccas.test',
      ['--structure', structure.slug],
      `${PASSWORD}\n`,
      'partner',
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error: --partner is required for the partner role (a partner id)',
    );
  });

  it('when --partner is given for another role, then it exits 1', async () => {
    const partner = await createPartner();
    const r = await create('w@ccas.test', ['--structure', structure.slug, '--partner', partner.id]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: --partner is only for the partner role');
  });

  it('when the partner does not exist, then it exits 1 naming it', async () => {
    const r = await create(
      'p2@ccas.test',
      ['--structure', structure.slug, '--partner', '00000000-0000-4000-8000-000000000000'],
      undefined,
      'partner',
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `error: --partner: partner "00000000-0000-4000-8000-000000000000" is not one of the structure's partners (a structure creates users for the partners it owns)`,
    );
  });

  it('when the partner belongs to another structure, then it exits 1 naming --partner and creates nothing', async () => {
    const elsewhere = await createStructure();
    const partner = await createPartner(testKnex(), undefined, elsewhere.id);
    const r = await create(
      'intrus@banque.test',
      ['--structure', structure.slug, '--partner', partner.id],
      undefined,
      'partner',
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `error: --partner: partner "${partner.id}" is not one of the structure's partners (a structure creates users for the partners it owns)`,
    );
    expect(
      await testKnex()('users').where({ email: 'intrus@banque.test' }).first(),
    ).toBeUndefined();
  });

  it('when the email is not an email, then it exits 1 naming --email', async () => {
    const r = await create('pas-un-email', ['--structure', structure.slug]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --email: /);
  });

  it('when the password is typed on a terminal, then it is asked for and never shown', async () => {
    const args = ['users:create', '--email', 'terminal@ccas.test', '--name', 'Léa', '--role']
      .concat(['worker', '--structure', structure.slug])
      .map((a) => `'${a}'`);
    const cliPath = path.join(compiled.dir, 'server', 'cli', 'index.js');
    // script(1) runs the CLI on a pseudo-terminal and copies everything the terminal shows to
    // its standard output; what is written to its standard input is typed on the terminal.
    const child = spawn(
      'script',
      ['-qec', [process.execPath, cliPath, ...args].join(' '), '/dev/null'],
      { env, stdio: 'pipe' },
    );
    let shown = '';
    child.stdout.on('data', (b: Buffer) => (shown += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const until = Date.now() + 30_000;
    while (!shown.includes('Password (12 to 128 characters): ') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    // Typed once the prompt is shown, as a person would, Enter included.
    child.stdin.write(`${PASSWORD}\r`);
    const code = await exited;
    child.stdin.end();
    expect(shown).toContain('User terminal@ccas.test created');
    expect(code).toBe(0);
    expect(shown).not.toContain(PASSWORD);
    const row = await testKnex()('users').where({ email: 'terminal@ccas.test' }).first();
    expect(await verifyPassword(row.password_hash, PASSWORD)).toBe(true);
  });
});

describe('CLI users:disable', () => {
  it('disables the user and ends their sessions', async () => {
    const s = await createStructure();
    const created = await cli(
      [
        'users:create',
        '--email',
        'partant@ccas.test',
        '--name',
        'Partant',
        '--role',
        'manager',
        '--structure',
        s.slug,
      ],
      `${PASSWORD}\n`,
    );
    const r = await cli(['users:disable', '--email', 'partant@ccas.test']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(created.stdout.trim());
    const row = await testKnex()('users').where({ id: r.stdout.trim() }).first();
    expect(row.disabled_at).not.toBeNull();
    expect(row.session_epoch).toBe(1);
  });

  it('when nobody has that email, then it exits 1', async () => {
    const r = await cli(['users:disable', '--email', 'personne@ccas.test']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: User personne@ccas.test not found');
  });
});

describe('CLI usage and database commands', () => {
  it('when the command is unknown, then it exits 2 pointing at help', async () => {
    const r = await cli(['users:delete']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'error: unknown command "users:delete" (try: npm run cli -- help)',
    );
  });

  it('when an option is unknown, then it exits 2 with the usage line', async () => {
    const r = await cli(['structures:create', '--nom', 'X']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error: Unknown option '--nom'.*usage: npm run cli -- structures:create/,
    );
  });

  it('migrate on an up-to-date database says so and exits 0', async () => {
    const r = await cli(['migrate']);
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe('Already up to date');
  });

  it('seed:demo loads the Angers demo once, with encrypted free text, and refuses a second time', async () => {
    const r = await cli(['seed:demo']);
    expect(r.code).toBe(0);
    const structureId = r.stdout.trim();
    const knex = testKnex();
    expect(await knex('structures').where({ id: structureId }).first()).toMatchObject({
      slug: 'angers',
      name: "CCAS d'Angers",
    });
    const users = await knex('users').where({ structure_id: structureId }).orderBy('role');
    expect(users.map((u) => u.role).sort()).toEqual([
      'admin',
      'manager',
      'observer',
      'partner',
      'worker',
    ]);
    expect(users.every((u) => u.email.endsWith('@demo.aller-vers.fr'))).toBe(true);
    const districts = await knex('districts').where({ structure_id: structureId });
    expect(districts.filter((d) => d.qpv).map((d) => d.name)).toEqual(
      expect.arrayContaining(['Belle-Beille', 'Monplaisir', 'La Roseraie', 'Grand-Pigeon']),
    );
    expect(districts.some((d) => !d.qpv)).toBe(true);
    const teams = await knex('teams').where({ structure_id: structureId }).pluck('name');
    expect(teams.sort()).toEqual(['Accueil', 'Équipe mobile']);

    const persons = await knex('persons').where({ structure_id: structureId });
    expect(persons.length).toBeGreaterThanOrEqual(3);
    const withSituation = persons.filter((p) => p.situation_enc);
    expect(withSituation.length).toBeGreaterThan(0);
    const cipher = createCipher(KEY);
    for (const p of withSituation) {
      expect(p.situation_enc).toMatch(/^v1\./);
      expect(cipher.decrypt(p.situation_enc)).not.toBe('');
    }
    const openFollowUps = await knex('follow_ups').where({
      structure_id: structureId,
      status: 'open',
    });
    expect(openFollowUps.length).toBeGreaterThan(0);
    const deadlines = await knex('deadlines').whereIn(
      'subject_id',
      openFollowUps.map((f) => f.id),
    );
    // Each follow-up's due moment, overdue reminder and escalation.
    expect(deadlines).toHaveLength(openFollowUps.length * 3);
    for (const kind of ['follow_up.due', 'follow_up.overdue_reminder', 'follow_up.escalate'])
      expect(deadlines.filter((d) => d.kind === kind)).toHaveLength(openFollowUps.length);
    // Every followed person has the no-contact rules planned.
    const noContact = await knex('deadlines')
      .where({ kind: 'person.no_contact' })
      .whereIn(
        'subject_id',
        persons.map((p) => p.id),
      );
    expect(noContact).toHaveLength(persons.length);

    const again = await cli(['seed:demo']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already loaded/);
  });

  it('seed:demo is refused in production', async () => {
    const r = await runCli(
      ['seed:demo'],
      childEnv({
        DATABASE_URL: TEST_DATABASE_URL,
        NODE_ENV: 'production',
        PUBLIC_URL: 'https://aller-vers.example',
        SESSION_SECRET: 's'.repeat(40),
        LINK_SECRET: 'l'.repeat(40),
        ENCRYPTION_KEY: KEY,
        SMTP_URL: 'smtp://127.0.0.1:2525',
        MAIL_FROM: 'CCAS <no-reply@ccas.example>',
      }),
      '',
      compiled.dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('error: Demo data is refused in production (NODE_ENV=production)');
  });

  it('bench:seed loads persons, contacts, follow-ups and referrals readable with the key, once', async () => {
    const r = await cli(['bench:seed', '--persons', '50']);
    expect(r.code).toBe(0);
    const structureId = r.stdout.trim();
    expect(structureId).toMatch(UUID);
    const knex = testKnex();
    const count = async (table: string) =>
      Number((await knex(table).where({ structure_id: structureId }).count({ n: '*' }))[0].n);
    // One person in ten goes to the second structure; about ten contacts a person, some
    // follow-ups and rights; one in ten of the rest is referred (at least one), with its
    // consent and its events.
    expect(await count('persons')).toBe(45);
    const contacts = await count('contacts');
    expect(contacts).toBeGreaterThan(45 * 5);
    expect(contacts).toBeLessThan(45 * 15);
    expect(await count('follow_ups')).toBeGreaterThan(0);
    expect(await count('person_rights')).toBeGreaterThan(0);
    const referrals = await count('referrals');
    expect(referrals).toBeGreaterThanOrEqual(1);
    expect(await count('referral_events')).toBeGreaterThanOrEqual(referrals);
    // The derived last contact is written by the seed as the triggers would keep it.
    const { rows: drift } = await knex.raw(
      `SELECT p.id FROM persons p WHERE p.structure_id = ?
         AND p.last_contact_at IS DISTINCT FROM (SELECT max(c.occurred_at) FROM contacts c WHERE c.person_id = p.id)`,
      [structureId],
    );
    expect(drift).toEqual([]);
    // So is the first successful contact, and some persons were reached.
    const { rows: firstDrift } = await knex.raw(
      `SELECT p.id FROM persons p WHERE p.structure_id = ?
         AND p.first_reached_at IS DISTINCT FROM (SELECT min(c.occurred_at) FROM contacts c
              WHERE c.person_id = p.id AND c.outcome IN ('reached', 'appointment_set'))`,
      [structureId],
    );
    expect(firstDrift).toEqual([]);
    const reached = await knex('persons')
      .where({ structure_id: structureId })
      .whereNotNull('first_reached_at')
      .count({ n: '*' });
    expect(Number(reached[0].n)).toBeGreaterThan(0);
    // Each follow-up carries its person's district, and some have one.
    const { rows: districtDrift } = await knex.raw(
      `SELECT f.id FROM follow_ups f JOIN persons p ON p.id = f.person_id
        WHERE f.structure_id = ? AND f.district_id IS DISTINCT FROM p.district_id`,
      [structureId],
    );
    expect(districtDrift).toEqual([]);
    const inDistrict = await knex('follow_ups')
      .where({ structure_id: structureId })
      .whereNotNull('district_id')
      .count({ n: '*' });
    expect(Number(inDistrict[0].n)).toBeGreaterThan(0);
    // The backlog's counters, counted at the end of the seed: a total per referent of the active files.
    const { rows: totals } = await knex.raw(
      `SELECT coalesce(sum(persons), 0) AS counted,
         (SELECT count(*) FROM persons p WHERE p.structure_id = :s
           AND p.closed_at IS NULL AND p.anonymised_at IS NULL) AS active
         FROM backlog_contact_counts
        WHERE structure_id = :s AND dimension = 'referent' AND last_day IS NULL`,
      { s: structureId },
    );
    expect(Number(totals[0].counted)).toBe(Number(totals[0].active));
    expect(Number(totals[0].active)).toBeGreaterThan(0);
    // And a total per assignee of the open follow-ups.
    const { rows: followUps } = await knex.raw(
      `SELECT coalesce(sum(follow_ups), 0) AS counted,
         (SELECT count(*) FROM follow_ups f WHERE f.structure_id = :s AND f.status = 'open') AS open
         FROM backlog_follow_up_counts
        WHERE structure_id = :s AND due_day IS NULL`,
      { s: structureId },
    );
    expect(Number(followUps[0].counted)).toBe(Number(followUps[0].open));
    expect(Number(followUps[0].open)).toBeGreaterThan(0);
    const referral = await knex('referrals').where({ structure_id: structureId }).first();
    expect(['Besoin alimentaire', 'Accès aux droits', 'Logement', 'Santé']).toContain(
      createCipher(KEY).decrypt(referral.reason_enc),
    );
    const consent = await knex('consents').where({ id: referral.consent_id }).first();
    expect(consent).toMatchObject({ purpose: 'referral', partner_id: referral.partner_id });

    const again = await cli(['bench:seed', '--persons', '50']);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(structureId);
    expect(await count('contacts')).toBe(contacts);
    expect(await count('referrals')).toBe(referrals);

    // A seed stopped before its counters: the next run rebuilds them.
    await knex('backlog_contact_counts').del();
    await knex('backlog_follow_up_counts').del();
    const resumed = await cli(['bench:seed', '--persons', '50']);
    expect(resumed.code).toBe(0);
    expect(
      Number(
        (
          await knex('backlog_contact_counts')
            .sum({ n: 'persons' })
            .whereNull('last_day')
            .where({ structure_id: structureId, dimension: 'referent' })
        )[0].n,
      ),
    ).toBe(Number(totals[0].active));
    expect(
      Number(
        (
          await knex('backlog_follow_up_counts')
            .sum({ n: 'follow_ups' })
            .whereNull('due_day')
            .where({ structure_id: structureId })
        )[0].n,
      ),
    ).toBe(Number(followUps[0].open));
  });
});

describe('CLI retention:run (on the real clock)', () => {
  let idle: string;
  let structureId: string;
  let active: string;
  beforeAll(async () => {
    const s = await createStructure();
    structureId = s.id;
    const cipher = createCipher(KEY);
    const rows = await testKnex()('persons')
      .insert([
        {
          structure_id: s.id,
          first_name: 'Nadia',
          last_name: 'Benali',
          phone: '06 12 34 56 78',
          source: 'outreach',
          situation_enc: cipher.encrypt('Hébergée chez sa sœur'),
          last_activity_at: testKnex().raw("now() - interval '3 years'"),
        },
        { structure_id: s.id, alias: 'Homme au vélo', source: 'outreach' },
      ])
      .returning('id');
    [idle, active] = rows.map((r: { id: string }) => r.id);
  });

  it('when run with --dry-run, then it lists the file due with its counts and changes nothing', async () => {
    const before = await testKnex()('persons').orderBy('id');
    const r = await cli(['retention:run', '--dry-run']);
    expect(r.code).toBe(0);
    // Other files of this test file (the bench's) may be due too: this structure's are read.
    const ids = r.stdout.trim().split('\n');
    expect(ids).toContain(idle);
    expect(ids).not.toContain(active);
    expect(r.stderr).toMatch(
      new RegExp(
        `Structure ${structureId} .*: 1 file\\(s\\) would be anonymised \\(contacts 0, follow-ups 0`,
      ),
    );
    expect(r.stderr).toContain(`structure ${structureId}: 1/1 file(s)`);
    expect(r.stderr).toContain('Dry run: nothing was changed');
    expect(await testKnex()('persons').orderBy('id')).toEqual(before);
  });

  it('when run, then the file due is anonymised, once, and the active one is not', async () => {
    const r = await cli(['retention:run']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toContain(idle);
    expect(r.stderr).toMatch(
      new RegExp(`Structure ${structureId} .*: 1 file\\(s\\) were anonymised`),
    );
    const p = await testKnex()('persons').where({ id: idle }).first();
    expect(p).toMatchObject({ first_name: null, phone: null, situation_enc: null });
    expect(p.anonymised_at).not.toBeNull();
    expect((await testKnex()('persons').where({ id: active }).first()).anonymised_at).toBeNull();
    const again = await cli(['retention:run']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(
      new RegExp(`Structure ${structureId} .*: 0 file\\(s\\) were anonymised`),
    );
    expect(
      await testKnex()('audit_events').where({ action: 'person.anonymise', subject_id: idle }),
    ).toHaveLength(1);
  });

  it('when given an unknown option, then it exits 2 with the usage', async () => {
    const r = await cli(['retention:run', '--dryrun']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('retention:run [--dry-run]');
  });
});
