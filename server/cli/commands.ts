import type { Knex } from 'knex';
import { z } from 'zod';
import { ROLES, type Role } from '../auth/actor';
import { checkPasswordPolicy, hashPassword } from '../auth/passwords';
import { emailAddress } from '../lib/email-address';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { createUserRepository, type UserRepository } from '../features/users/user-repository';
import { createPasswordLinkRepository } from '../features/users/password-link-repository';
import { createTeamRepository } from '../features/teams/team-repository';
import { createUserService, type UserServiceDeps } from '../features/users/user-service';
import type { Config } from '../config';
import { createCipher } from '../lib/crypto';
import { databaseAnswerBoundMs } from '../lib/db';
import { createRateLimiter } from '../lib/rate-limit';
import { createMailer } from '../lib/mailer';
import { createLogger } from '../lib/logger';
import { createTeamService } from '../features/teams/team-service';
import { createNotificationService } from '../features/notifications/notification-service';
import { createNotificationRepository } from '../features/notifications/notification-repository';
import { createSentEmailRepository } from '../features/referrals/sent-email-repository';
import { createPartnerRepository } from '../features/partners/partner-repository';
import { createPartnerEmailChangeRepository } from '../features/partners/partner-email-change-repository';
import { createPersonRepository } from '../features/persons/person-repository';
import { createFollowUpRepository } from '../features/follow-ups/follow-up-repository';
import { createReferralRepository } from '../features/referrals/referral-repository';
import { seedCatalogue } from '../features/rights/right-catalogue';
import type { Cipher } from '../lib/crypto';
import { systemClock } from '../lib/clock';
import { createUnitOfWork } from '../lib/unit-of-work';
import { createOutboxIn, createStructureRuns } from '../features/deadlines/outbox';
import { createDeadlineRepository } from '../features/deadlines/deadline-repository';
import { createSettingsRepository } from '../features/settings/settings-repository';
import { createAuditTrail } from '../features/audit/audit-trail';
import { createAuditRepository } from '../features/audit/audit-repository';
import { createSettingsService } from '../features/settings/settings-service';
import { createRetentionRepository } from '../features/retention/retention-repository';
import { createPartnerWithdrawal } from '../features/referrals/partner-withdrawal';
import { createIdempotencyRepository } from '../features/idempotency/idempotency-repository';
import { createIdempotencyService } from '../features/idempotency/idempotency-service';
import {
  createRetentionService,
  type RetentionReport,
  type RunOptions,
} from '../features/retention/retention-service';

/** The operator commands, apart from argument parsing so each rule reads on its own. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const structureInput = z
  .object({
    name: z.string().trim().min(2).max(200),
    slug: z
      .string()
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lowercase letters, digits and single dashes only')
      .max(60),
    city: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

const userInput = z
  .object({
    email: emailAddress(),
    name: z.string().trim().min(1).max(200),
    role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }),
    structure: z.string().min(1),
    partner: z.string().optional(),
  })
  .strict();

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
  throw new ValidationError(issues.map((i) => `--${i.field}: ${i.message}`).join('; '), issues);
}

export async function createStructure(
  knex: Knex,
  input: { name?: string; slug?: string; city?: string },
): Promise<{ id: string; slug: string }> {
  const s = parse(structureInput, input);
  if (await knex('structures').where({ slug: s.slug }).first()) {
    throw new ConflictError(`A structure with slug "${s.slug}" already exists`);
  }
  // The structure comes with its catalogue of rights, or not at all.
  return knex.transaction(async (trx) => {
    const [row] = await trx('structures')
      .insert({ name: s.name, slug: s.slug, city: s.city ?? null })
      .returning(['id', 'slug']);
    await seedCatalogue(trx, row.id);
    return row as { id: string; slug: string };
  });
}

/** A structure by slug, or by id when the value is a UUID. */
async function findStructure(knex: Knex, ref: string): Promise<{ id: string } | null> {
  const q = knex('structures').select('id').where({ slug: ref });
  if (UUID.test(ref)) q.orWhere({ id: ref });
  return (await q.first()) ?? null;
}

/**
 * A user, as an admin's invitation makes one but with a password: a partner user only for a
 * partner the structure owns, by the invitation's rule (`partnerOwned`, the partner directory's).
 */
export async function createUser(
  knex: Knex,
  deps: { users: UserRepository; partnerOwned: UserServiceDeps['partnerOwned'] },
  input: {
    email?: string;
    name?: string;
    role?: string;
    structure?: string;
    partner?: string;
    password: string;
  },
): Promise<{ id: string }> {
  const { password, ...rest } = input;
  const u = parse(userInput, rest);
  const role: Role = u.role;
  if (role === 'partner' && !u.partner) {
    throw new ValidationError('--partner is required for the partner role (a partner id)', [
      { field: 'partner', message: 'is required for the partner role' },
    ]);
  }
  if (role !== 'partner' && u.partner) {
    throw new ValidationError('--partner is only for the partner role', [
      { field: 'partner', message: 'is only for the partner role' },
    ]);
  }
  await checkPasswordPolicy(password);

  const structure = await findStructure(knex, u.structure);
  if (!structure) throw new NotFoundError(`Structure "${u.structure}"`);
  if (
    u.partner &&
    !(UUID.test(u.partner) && (await deps.partnerOwned(knex, structure.id, u.partner)))
  ) {
    throw new ValidationError(
      `--partner: partner "${u.partner}" is not one of the structure's partners (a structure creates users for the partners it owns)`,
      [{ field: 'partner', message: "is not one of the structure's partners" }],
    );
  }
  const user = await deps.users.insert(knex, {
    structureId: structure.id,
    email: u.email,
    name: u.name,
    role,
    partnerId: u.partner ?? null,
    passwordHash: await hashPassword(password),
  });
  if (!user) throw new ConflictError(`A user with email ${u.email} already exists`);
  return { id: user.id };
}

/**
 * Disabling, as an admin's change does it (the user service's `disableAsOperator`): the managers
 * are told of the work the user leaves, the account and the teams listing it move their versions,
 * unused set-password links are revoked, every session ends, and it is audited as the operator's.
 * No last-admin rule: the operator answers for the structure's access.
 */
export async function disableUser(
  knex: Knex,
  config: Config,
  email: string | undefined,
): Promise<{ id: string }> {
  const parsed = parse(z.object({ email: emailAddress() }).strict(), { email });
  const { id } = await operatorUserService(knex, config).disableAsOperator(parsed.email);
  return { id };
}

/**
 * The user service as the container wires it, without Redis (its limits count in memory) and
 * without the services a disable does not call: what a user holds is counted by the same
 * repositories the follow-up and referral services ask.
 */
function operatorUserService(knex: Knex, config: Config) {
  const cipher = createCipher(config.ENCRYPTION_KEY);
  const deadlines = createDeadlineRepository();
  const outboxIn = createOutboxIn(deadlines);
  const audit = createAuditTrail(createAuditRepository(), {
    boundMs: databaseAnswerBoundMs(config),
  });
  const uow = createUnitOfWork(knex, (trx) => ({
    writer: outboxIn(trx),
    afterCommit: async () => undefined,
  }));
  const idempotency = createIdempotencyService({
    clock: systemClock,
    keys: createIdempotencyRepository(),
  });
  const partners = createPartnerRepository(createPartnerEmailChangeRepository());
  const persons = createPersonRepository(cipher);
  const followUps = createFollowUpRepository();
  const referrals = createReferralRepository(cipher);
  const limit = (keyPrefix: string) =>
    createRateLimiter(null, { keyPrefix, points: 20, durationSeconds: 15 * 60 });
  return createUserService({
    audit,
    idempotency,
    knex,
    uow,
    clock: systemClock,
    linkSecret: config.LINK_SECRET,
    teams: createTeamService({ audit, knex, uow, teams: createTeamRepository(), idempotency }),
    notifications: createNotificationService({
      knex,
      clock: systemClock,
      notifications: createNotificationRepository(),
    }),
    users: createUserRepository(),
    passwordLinks: createPasswordLinkRepository(),
    mailer: createMailer(config, createLogger(config.LOG_LEVEL)),
    sentEmails: createSentEmailRepository(),
    publicUrl: config.publicUrl,
    partnerOwned: (db, structureId, partnerId) => partners.owns(db, structureId, partnerId),
    followUps: {
      heldBy: async (db, structureId, userId) => ({
        followUps: await followUps.countOpenOf(db, structureId, userId),
        files: await persons.countActiveFilesOf(db, structureId, userId),
      }),
    },
    referrals: {
      openRequestedCount: (db, structureId, userId) =>
        referrals.countOpenRequestedBy(db, structureId, userId),
    },
    announcePartnerAccount: async () => {
      throw new Error('The command line enables no partner account');
    },
    resetLimits: { byAccount: limit('cli:reset:account'), byIp: limit('cli:reset:ip') },
    linkUseLimit: limit('cli:password-link:ip'),
  });
}

/**
 * The retention run of every structure, now (the nightly job's work, on demand). Without Redis:
 * the deadlines of an anonymised file are cancelled in PostgreSQL, and a job still in Redis for
 * one of them finds it cancelled and does nothing.
 */
export async function runRetention(
  knex: Knex,
  cipher: Cipher,
  opts: { dryRun: boolean; answerBoundMs: number; onProgress?: RunOptions['onProgress'] },
): Promise<RetentionReport[]> {
  // The container's wiring, without Redis: what the retention run needs, built the same way.
  const deadlines = createDeadlineRepository();
  const outboxIn = createOutboxIn(deadlines);
  const audit = createAuditTrail(createAuditRepository(), { boundMs: opts.answerBoundMs });
  const uow = createUnitOfWork(knex, (trx) => ({
    writer: outboxIn(trx),
    afterCommit: async () => undefined,
  }));
  const settings = createSettingsService({
    knex,
    uow,
    clock: systemClock,
    eachPendingOfKinds: deadlines.eachPendingOfKinds,
    settingsRows: createSettingsRepository(),
    audit,
    // Built just below; this command changes no setting.
    retention: { preview: (db, structureId, months) => retention.preview(db, structureId, months) },
  });
  // The partner of each referral a run cancels is told, as the referral service tells it.
  const withdrawal = createPartnerWithdrawal({
    clock: systemClock,
    notifications: createNotificationService({
      knex,
      clock: systemClock,
      notifications: createNotificationRepository(),
    }),
    partners: createPartnerRepository(createPartnerEmailChangeRepository()),
    referrals: createReferralRepository(cipher),
    settings,
  });
  const retention = createRetentionService({
    knex,
    uow,
    clock: systemClock,
    relay: { enqueue: async () => undefined },
    settings,
    retention: createRetentionRepository(cipher),
    audit,
    structureRuns: createStructureRuns(deadlines),
    outboxIn,
    referrals: { tellPartnerCancelled: withdrawal.tellCancelled },
    idempotency: createIdempotencyService({
      clock: systemClock,
      keys: createIdempotencyRepository(),
    }),
  });
  return retention.runAll(opts);
}
