import type { Knex } from 'knex';
import type { Role } from '../auth/actor';
import { checkPasswordPolicy, hashPassword } from '../auth/passwords';
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import type { Cipher } from '../lib/crypto';
import { ConflictError } from '../lib/errors';
import { createReminderPlanner } from '../features/deadlines/reminder-planner';
import { fixedRuleSettings } from '../features/deadlines/rule-settings';
import { createReminderRepository } from '../features/deadlines/reminder-repository';
import { createOutboxIn, type OutboxWriter } from '../features/deadlines/outbox';
import { createDeadlineRepository } from '../features/deadlines/deadline-repository';
import { partnerDirectoryDemoStep, referralDemoStep } from './partner-demo';
import { reportDemoStep } from './report-demo';
import { DEMO_EMAIL_DOMAIN } from './seed-accounts';
import { seedCatalogue } from '../features/rights/right-catalogue';

/**
 * Demo data for trying aller-vers out: a CCAS in Angers, one account per role, a partner (owned
 * by the CCAS, so its demo admin maintains it) and a few persons met in the street. It goes only into the embedded database (server/index.ts) or
 * where an operator asks for it explicitly (`npm run cli -- seed:demo`); production refuses to
 * start while enabled demo accounts exist (seed-accounts.ts).
 */
export const DEMO_PASSWORD = 'demo-aller-vers-2026';
const DEMO_STRUCTURE_SLUG = 'angers';

export const DEMO_ACCOUNTS: ReadonlyArray<{ role: Role; email: string; name: string }> = [
  { role: 'worker', email: `travailleur@${DEMO_EMAIL_DOMAIN}`, name: 'Camille Travailleuse' },
  { role: 'manager', email: `cadre@${DEMO_EMAIL_DOMAIN}`, name: 'Dominique Cadre' },
  { role: 'partner', email: `partenaire@${DEMO_EMAIL_DOMAIN}`, name: 'Alex Partenaire' },
  { role: 'observer', email: `observateur@${DEMO_EMAIL_DOMAIN}`, name: 'Claude Observateur' },
  { role: 'admin', email: `admin@${DEMO_EMAIL_DOMAIN}`, name: 'Sacha Admin' },
];

/** Angers' QPV neighbourhoods (politique de la ville) and two ordinary ones. */
const DISTRICTS: ReadonlyArray<{ name: string; qpv: boolean }> = [
  { name: 'Belle-Beille', qpv: true },
  { name: 'Monplaisir', qpv: true },
  { name: 'La Roseraie', qpv: true },
  { name: 'Grand-Pigeon', qpv: true },
  { name: 'Savary', qpv: true },
  { name: 'Deux-Croix / Banchais', qpv: true },
  { name: 'Centre-ville', qpv: false },
  { name: 'Doutre', qpv: false },
];

/** What the steps share: ids of what earlier steps created, the transaction and helpers. */
interface DemoSeedContext {
  trx: Knex.Transaction;
  /** The outbox in the seed's transaction: the worker's relay enqueues what it plans. */
  outbox: OutboxWriter;
  cipher: Cipher;
  now: Date;
  structureId: string;
  users: Partial<Record<Role, string>>;
  partners: Record<string, string>;
  districts: Record<string, string>;
  teams: Record<string, string>;
  persons: Record<string, string>;
}

export type DemoSeedStep = (ctx: DemoSeedContext) => Promise<void>;

const DAY = 24 * 3600 * 1000;

const partnersStep: DemoSeedStep = async (ctx) => {
  const [row] = await ctx
    .trx('partners')
    .insert({
      structure_id: ctx.structureId,
      name: "Banque alimentaire de l'Anjou",
      email: `contact@banque-alimentaire.${DEMO_EMAIL_DOMAIN}`,
      phone: '02 41 00 00 00',
    })
    .returning('id');
  ctx.partners.banqueAlimentaire = row.id;
};

const districtsStep: DemoSeedStep = async (ctx) => {
  const rows = await ctx
    .trx('districts')
    .insert(DISTRICTS.map((d) => ({ structure_id: ctx.structureId, name: d.name, qpv: d.qpv })))
    .returning(['id', 'name']);
  for (const r of rows) ctx.districts[r.name] = r.id;
};

const usersAndTeamsStep: DemoSeedStep = async (ctx) => {
  await checkPasswordPolicy(DEMO_PASSWORD);
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  for (const account of DEMO_ACCOUNTS) {
    const [row] = await ctx
      .trx('users')
      .insert({
        structure_id: ctx.structureId,
        email: account.email,
        name: account.name,
        role: account.role,
        partner_id: account.role === 'partner' ? ctx.partners.banqueAlimentaire : null,
        password_hash: passwordHash,
      })
      .returning('id');
    ctx.users[account.role] = row.id;
  }
  for (const name of ['Accueil', 'Équipe mobile']) {
    const [team] = await ctx
      .trx('teams')
      .insert({ structure_id: ctx.structureId, name })
      .returning('id');
    ctx.teams[name] = team.id;
    await ctx.trx('team_members').insert([
      { team_id: team.id, user_id: ctx.users.manager, is_lead: true },
      { team_id: team.id, user_id: ctx.users.worker, is_lead: false },
    ]);
  }
};

interface DemoPerson {
  key: string;
  person: Record<string, unknown> & { district: string; situation?: string };
  contacts: Array<{ daysAgo: number; channel: string; outcome: string; summary?: string }>;
  followUp?: { title: string; dueInDays: number };
}

const DEMO_PERSONS: DemoPerson[] = [
  {
    key: 'mediatheque',
    person: {
      alias: 'Homme ~50 ans, parvis de la médiathèque',
      place: 'Parvis de la médiathèque Toussaint',
      gender: 'male',
      source: 'outreach',
      district: 'Centre-ville',
      situation:
        "Dort dehors depuis l'automne. Ne connaît pas le RSA ; pas de domiciliation, donc pas de courrier.",
    },
    contacts: [
      { daysAgo: 12, channel: 'street', outcome: 'not_reached' },
      {
        daysAgo: 5,
        channel: 'street',
        outcome: 'reached',
        summary: 'Accepte de revenir en parler ; intéressé par une domiciliation au CCAS.',
      },
    ],
    followUp: { title: 'Proposer une domiciliation et un rendez-vous RSA', dueInDays: 2 },
  },
  {
    key: 'ecole',
    person: {
      alias: 'Femme ~35 ans avec deux enfants, signalée par l’école',
      gender: 'female',
      source: 'institution',
      household_type: 'single_parent',
      district: 'Monplaisir',
      situation:
        'Factures d’énergie impayées ; la directrice de l’école s’inquiète pour les enfants.',
    },
    contacts: [{ daysAgo: 4, channel: 'phone', outcome: 'not_reached' }],
    followUp: { title: 'Rappeler et proposer une visite à domicile', dueInDays: -1 },
  },
  {
    key: 'voisin',
    person: {
      first_name: 'Marcel',
      last_name: 'Fontaine',
      birth_year: 1947,
      gender: 'male',
      source: 'neighbour',
      household_type: 'single',
      district: 'Belle-Beille',
      place: 'Domicile, rue Pierre-Lise',
      // Reachable by post: the demo's letter ("Écrire un courrier") has an address to go to.
      address: '12 rue Pierre-Lise\n49000 Angers',
      situation: 'Vit seul, ne sort plus depuis une chute. Retraite modeste, ASPA jamais demandée.',
    },
    contacts: [
      {
        daysAgo: 20,
        channel: 'home_visit',
        outcome: 'appointment_set',
        summary: 'Visite avec la voisine ; rendez-vous pris pour remplir le dossier ASPA.',
      },
    ],
    followUp: { title: 'Vérifier le dépôt du dossier ASPA', dueInDays: 7 },
  },
  {
    key: 'roseraie',
    person: {
      alias: 'Jeune homme ~20 ans, skate-park de la Roseraie',
      place: 'Skate-park de la Roseraie',
      gender: 'male',
      source: 'citizen_report',
      district: 'La Roseraie',
    },
    contacts: [],
  },
  {
    // Marcel again, signalled later by the pension fund with his name misspelt: the likely
    // duplicate the demo offers ("Déjà connu·e ?") and a manager can merge.
    key: 'voisinDoublon',
    person: {
      first_name: 'Marcel',
      last_name: 'Fontaines',
      birth_year: 1947,
      phone: '02 41 55 66 77',
      source: 'institution',
      district: 'Belle-Beille',
      situation: 'Signalé par la caisse de retraite : isolement, courriers sans réponse.',
    },
    contacts: [{ daysAgo: 3, channel: 'phone', outcome: 'not_reached' }],
  },
];

const personsStep: DemoSeedStep = async (ctx) => {
  const worker = ctx.users.worker;
  // The reminder rules as a worker's actions plan them, with the default durations.
  const planner = createReminderPlanner({
    ruleSettings: fixedRuleSettings(),
    reminders: createReminderRepository(),
  });
  const { outbox } = ctx;
  for (const p of DEMO_PERSONS) {
    const { district, situation, ...fields } = p.person;
    const lastContact = p.contacts.length
      ? Math.min(...p.contacts.map((c) => c.daysAgo))
      : undefined;
    const [person] = await ctx
      .trx('persons')
      .insert({
        ...fields,
        structure_id: ctx.structureId,
        district_id: ctx.districts[district],
        referent_id: worker,
        created_by: worker,
        situation_enc: ctx.cipher.encryptOptional(situation),
        last_activity_at: new Date(ctx.now.getTime() - (lastContact ?? 1) * DAY),
      })
      .returning('id');
    ctx.persons[p.key] = person.id;

    for (const c of p.contacts) {
      await ctx.trx('contacts').insert({
        structure_id: ctx.structureId,
        person_id: person.id,
        author_id: worker,
        occurred_at: new Date(ctx.now.getTime() - c.daysAgo * DAY),
        channel: c.channel,
        outcome: c.outcome,
        summary_enc: ctx.cipher.encryptOptional(c.summary),
      });
    }

    if (p.followUp) {
      const dueAt = new Date(ctx.now.getTime() + p.followUp.dueInDays * DAY);
      const [followUp] = await ctx
        .trx('follow_ups')
        .insert({
          structure_id: ctx.structureId,
          person_id: person.id,
          assignee_id: worker,
          created_by: worker,
          title: p.followUp.title,
          due_at: dueAt,
        })
        .returning('id');
      // Through the outbox like any follow-up, so the worker delivers its reminders.
      await planner.planFollowUp(ctx.trx, outbox, ctx.structureId, followUp.id, dueAt);
    }
    // From the last contact, or now for a person never reached.
    await planner.planNoContact(ctx.trx, outbox, ctx.structureId, person.id, {
      createdAt: ctx.now,
    });
  }
};

/**
 * Each demo person's rights, as their changes happened (oldest first): non-take-up at a glance,
 * with its Odenore reasons, claims under way and what outreach opened in euros. Marcel's rights
 * all ended (obtained or refused): his path shows as resolved.
 */
const DEMO_RIGHTS: Record<
  string,
  Array<{
    code: string;
    daysAgo: number;
    status: string;
    reason?: string;
    amount?: number;
    note?: string;
  }>
> = {
  mediatheque: [
    { code: 'rsa', daysAgo: 5, status: 'not_claimed', reason: 'non_knowledge' },
    { code: 'domiciliation', daysAgo: 5, status: 'not_claimed', reason: 'non_knowledge' },
    {
      code: 'domiciliation',
      daysAgo: 3,
      status: 'claim_in_progress',
      note: 'Demande d’élection de domicile déposée au CCAS.',
    },
    { code: 'aide_alimentaire', daysAgo: 5, status: 'claim_in_progress' },
  ],
  ecole: [
    { code: 'cheque_energie', daysAgo: 4, status: 'not_claimed', reason: 'non_receipt' },
    { code: 'css', daysAgo: 4, status: 'not_claimed', reason: 'non_proposal' },
    { code: 'prime_activite', daysAgo: 4, status: 'not_claimed', reason: 'non_request' },
  ],
  voisin: [
    { code: 'aspa', daysAgo: 20, status: 'not_claimed', reason: 'non_request' },
    { code: 'aspa', daysAgo: 14, status: 'claim_in_progress', note: 'Dossier déposé à la Carsat.' },
    { code: 'aspa', daysAgo: 2, status: 'obtained', amount: 287.5 },
    { code: 'css', daysAgo: 20, status: 'not_claimed', reason: 'non_knowledge' },
    { code: 'css', daysAgo: 9, status: 'obtained' },
    { code: 'apl', daysAgo: 20, status: 'claim_in_progress' },
    {
      code: 'apl',
      daysAgo: 6,
      status: 'refused',
      note: 'Propriétaire de son logement : pas de droit à l’aide au logement.',
    },
  ],
  roseraie: [
    { code: 'tarification_transports', daysAgo: 1, status: 'not_claimed', reason: 'non_request' },
  ],
};

const rightsStep: DemoSeedStep = async (ctx) => {
  const worker = ctx.users.worker ?? null;
  const rights = new Map<string, string>(
    (
      (await ctx.trx('rights').where({ structure_id: ctx.structureId }).select('id', 'code')) as {
        id: string;
        code: string;
      }[]
    ).map((r) => [r.code, r.id]),
  );
  for (const [key, changes] of Object.entries(DEMO_RIGHTS)) {
    const personId = ctx.persons[key];
    if (!personId) continue;
    const last = new Map<string, (typeof changes)[number]>();
    for (const c of changes) {
      const at = new Date(ctx.now.getTime() - c.daysAgo * DAY);
      await ctx.trx('person_right_events').insert({
        structure_id: ctx.structureId,
        person_id: personId,
        right_id: rights.get(c.code),
        from_status: last.get(c.code)?.status ?? null,
        status: c.status,
        reason: c.reason ?? null,
        monthly_amount_cents: c.amount === undefined ? null : Math.round(c.amount * 100),
        note_enc: ctx.cipher.encryptOptional(c.note),
        actor_id: worker,
        at,
      });
      last.set(c.code, c);
    }
    for (const [code, c] of last) {
      const at = new Date(ctx.now.getTime() - c.daysAgo * DAY);
      await ctx.trx('person_rights').insert({
        structure_id: ctx.structureId,
        person_id: personId,
        right_id: rights.get(code),
        status: c.status,
        reason: c.reason ?? null,
        monthly_amount_cents: c.amount === undefined ? null : Math.round(c.amount * 100),
        note_enc: ctx.cipher.encryptOptional(c.note),
        version: changes.filter((x) => x.code === code).length,
        updated_by: worker,
        created_at: at,
        updated_at: at,
      });
    }
  }
  // The food bank referral of the first person serves the emergency food aid.
  await ctx
    .trx('referrals')
    .where({ structure_id: ctx.structureId, person_id: ctx.persons.mediatheque ?? null })
    .update({ right_id: rights.get('aide_alimentaire') });
};

/**
 * The steps run in this order inside one transaction; a feature that needs demo rows (partner
 * services, referrals…) adds its step here, reading the ids earlier steps left in the context.
 */
const DEMO_SEED_STEPS: DemoSeedStep[] = [
  partnersStep,
  partnerDirectoryDemoStep,
  districtsStep,
  usersAndTeamsStep,
  personsStep,
  referralDemoStep,
  rightsStep,
  reportDemoStep,
];

interface SeedDemoResult {
  structureId: string;
  accounts: typeof DEMO_ACCOUNTS;
  password: string;
}

/** Loads the demo data in one transaction; refuses when the demo structure already exists. */
export async function seedDemo(
  knex: Knex,
  opts: { cipher: Cipher; clock?: Clock },
): Promise<SeedDemoResult> {
  const now = (opts.clock ?? systemClock).now();
  return knex.transaction(async (trx) => {
    if (await trx('structures').where({ slug: DEMO_STRUCTURE_SLUG }).first()) {
      throw new ConflictError(
        `The demo data is already loaded (a structure with slug "${DEMO_STRUCTURE_SLUG}" exists)`,
      );
    }
    const [structure] = await trx('structures')
      .insert({
        name: "CCAS d'Angers",
        slug: DEMO_STRUCTURE_SLUG,
        city: 'Angers',
        // The letters' letterhead (an admin changes it at /admin/parametres).
        settings: JSON.stringify({
          letterhead: {
            name: 'CCAS d’Angers',
            addressLines: ['Centre communal d’action sociale', '49000 Angers'],
            phone: '02 41 00 00 00',
            email: 'accueil@ccas-angers.example',
          },
        }),
      })
      .returning('id');
    await seedCatalogue(trx, structure.id);
    const ctx: DemoSeedContext = {
      trx,
      outbox: createOutboxIn(createDeadlineRepository())(trx),
      cipher: opts.cipher,
      now,
      structureId: structure.id,
      users: {},
      partners: {},
      districts: {},
      teams: {},
      persons: {},
    };
    for (const step of DEMO_SEED_STEPS) await step(ctx);
    return { structureId: structure.id, accounts: DEMO_ACCOUNTS, password: DEMO_PASSWORD };
  });
}
