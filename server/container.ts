import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { createDeadlineQueue, type DeadlineJobData } from '../jobs/queues';
import type { Config } from './config';
import { createLoginThrottle, type LoginThrottle } from './auth/login-throttle';
import { createBusinessCalendar, type BusinessCalendar } from './lib/calendar';
import { systemClock, type Clock } from './lib/clock';
import { createCipher, type Cipher } from './lib/crypto';
import { databaseAnswerBoundMs, openDatabase, poolStats, type Database } from './lib/db';
import { createLogger, type Logger } from './lib/logger';
import { createRedis, tryConnect } from './lib/redis';
import { createUnitOfWork } from './lib/unit-of-work';
import { createCircuitBreaker, type CircuitBreaker } from './lib/circuit-breaker';
import { createMetrics, type Metrics } from './features/metrics/metrics-service';
import { createMailer, type Mailer } from './lib/mailer';
import { createConsentService, type ConsentService } from './features/consents/consent-service';
import { createPartnerDirectory, type PartnerDirectory } from './features/partners/partner-service';
import { createReferralRepository } from './features/referrals/referral-repository';
import { createReferralService, type ReferralService } from './features/referrals/referral-service';
import {
  createReferralLinkService,
  type ReferralLinkService,
} from './features/referrals/referral-link-service';
import { createAuthService, type AuthService } from './features/auth/auth-service';
import { createContactRepository } from './features/contacts/contact-repository';
import { createContactService, type ContactService } from './features/contacts/contact-service';
import { createDeadlineRelay, type DeadlineRelay } from './features/deadlines/deadline-relay';
import {
  createDeadlineRepository,
  type DeadlineRepository,
} from './features/deadlines/deadline-repository';
import {
  createOutbox,
  createOutboxIn,
  createStructureRuns,
  type OutboxIn,
  type UnitOfWork,
} from './features/deadlines/outbox';
import { createBacklogRepository } from './features/backlog/backlog-repository';
import { createBacklogService, type BacklogService } from './features/backlog/backlog-service';
import { createObservationRepository } from './features/observation/observation-repository';
import {
  createObservationService,
  type ObservationService,
} from './features/observation/observation-service';
import {
  createFollowUpService,
  type FollowUpService,
} from './features/follow-ups/follow-up-service';
import {
  createNotificationService,
  type NotificationService,
} from './features/notifications/notification-service';
import { createPersonRepository } from './features/persons/person-repository';
import { createPersonService, type PersonService } from './features/persons/person-service';
import { createPersonMergeRepository } from './features/persons/person-merge-repository';
import {
  createPersonMergeService,
  type PersonMergeService,
} from './features/persons/person-merge-service';
import {
  createTimelineService,
  type TimelineDetails,
  type TimelineService,
} from './features/persons/timeline-service';
import type { TimelineType } from './features/persons/timeline-repository';
import { createRightRepository } from './features/rights/right-repository';
import { createRightService, type RightService } from './features/rights/right-service';
import { referralReplanner } from './features/referrals/referral-replanner';
import { createSettingsService, type SettingsService } from './features/settings/settings-service';
import { createTeamService, type TeamService } from './features/teams/team-service';
import { createUserService, type UserService } from './features/users/user-service';
import { createRateLimiter } from './lib/rate-limit';
import { createSentEmailRepository } from './features/referrals/sent-email-repository';
import { createApiTokenRepository } from './features/api-tokens/api-token-repository';
import { createReferralLinkRepository } from './features/referrals/referral-link-repository';
import { createTeamRepository } from './features/teams/team-repository';
import { createPasswordLinkRepository } from './features/users/password-link-repository';
import { createUserRepository, type UserRepository } from './features/users/user-repository';
import { createFollowUpRepository } from './features/follow-ups/follow-up-repository';
import { createDigestRepository } from './features/digests/digest-repository';
import { createNotificationRepository } from './features/notifications/notification-repository';
import { createSettingsRepository } from './features/settings/settings-repository';
import { createDistrictRepository } from './features/districts/district-repository';
import { createDistrictService, type DistrictService } from './features/districts/district-service';
import { createTimelineRepository } from './features/persons/timeline-repository';
import { createConsentRepository } from './features/consents/consent-repository';
import { createPartnerRepository } from './features/partners/partner-repository';
import { createPartnerEmailChangeRepository } from './features/partners/partner-email-change-repository';
import { createTwoFactorRepository } from './features/two-factor/two-factor-repository';
import { digestReplanner } from './features/digests/digest-replanner';
import { createDigestService, type DigestService } from './features/digests/digest-service';
import {
  createRetentionService,
  type RetentionService,
} from './features/retention/retention-service';
import { createRetentionRepository } from './features/retention/retention-repository';
import { createLetterService, type LetterService } from './features/letters/letter-service';
import { createIdempotencyRepository } from './features/idempotency/idempotency-repository';
import { createIdempotencyService } from './features/idempotency/idempotency-service';
import { createAuditService, type AuditService } from './features/audit/audit-service';
import {
  createPersonExportService,
  type PersonExportService,
} from './features/exports/person-export-service';
import { createPersonExportRepository } from './features/exports/person-export-repository';
import { createReminderPlanner } from './features/deadlines/reminder-planner';
import { createMessageHours, type MessageHours } from './features/deadlines/message-hours';
import { reminderReplanner } from './features/deadlines/reminder-replanner';
import { createReminderRepository } from './features/deadlines/reminder-repository';
import { createAuditReader, createAuditRepository } from './features/audit/audit-repository';
import { createAuditTrail } from './features/audit/audit-trail';
import {
  createFollowUpReminderService,
  type FollowUpReminderService,
} from './features/follow-ups/follow-up-reminder-service';
import { ruleSettingsFrom, type RuleSettingsSource } from './features/deadlines/rule-settings';
import {
  createDeadlineAdminService,
  type DeadlineAdminService,
} from './features/deadlines/deadline-admin-service';
import { createReportRepository } from './features/reports/report-repository';
import { createReportService, type ReportService } from './features/reports/report-service';
import { reportReplanner } from './features/reports/report-replanner';
import {
  createTwoFactorService,
  type TwoFactorService,
} from './features/two-factor/two-factor-service';
import {
  createApiTokenService,
  type ApiTokenService,
} from './features/api-tokens/api-token-service';
import {
  createUserPreferenceService,
  type UserPreferenceService,
} from './features/users/user-preference-service';

export interface Deps {
  config: Config;
  logger: Logger;
  clock: Clock;
  /**
   * Paris days, as the backlog cuts its buckets; it knows no structure's working hours or
   * holidays: a rule gets those from `services.settings.rulesOf`.
   */
  calendar: BusinessCalendar;
  db: Database;
  knex: Knex;
  redis: Redis;
  queue: Queue<DeadlineJobData>;
  relay: DeadlineRelay;
  /** Whether requests enqueue their deadlines inline (closed) or leave them to the relay. */
  enqueueBreaker: CircuitBreaker;
  /** The process's Prometheus metrics (GET /metrics, METRICS_PORT). */
  metrics: Metrics;
  uow: UnitOfWork;
  /** The outbox inside a transaction the caller does not own (jobs, the seed). */
  outboxIn: OutboxIn;
  cipher: Cipher;
  throttle: LoginThrottle;
  mailer: Mailer;
  /** The durations of the reminder rules: the one function per-structure settings replace. */
  ruleSettings: RuleSettingsSource;
  /**
   * The only repositories handed out as such, to the edges that are no feature: everything else
   * reaches rows through `services`.
   */
  repos: {
    /** The outbox table: the worker's shell (jobs/processor.ts, jobs/runtime.ts) locks and finishes its rows. */
    deadlines: DeadlineRepository;
    /** Users as the session reads them on every request (server/auth/session.ts). */
    users: UserRepository;
  };
  services: {
    auth: AuthService;
    persons: PersonService;
    personMerges: PersonMergeService;
    contacts: ContactService;
    followUps: FollowUpService;
    /** The reminder rules of follow-ups and persons, run by the worker as their deadlines fall due. */
    followUpReminders: FollowUpReminderService;
    backlog: BacklogService;
    observation: ObservationService;
    timeline: TimelineService;
    notifications: NotificationService;
    partners: PartnerDirectory;
    consents: ConsentService;
    referrals: ReferralService;
    referralLinks: ReferralLinkService;
    rights: RightService;
    districts: DistrictService;
    settings: SettingsService;
    teams: TeamService;
    users: UserService;
    digests: DigestService;
    retention: RetentionService;
    letters: LetterService;
    audit: AuditService;
    personExports: PersonExportService;
    deadlineAdmin: DeadlineAdminService;
    /** Working hours at send time: the worker holds a message deadline due outside them. */
    messageHours: MessageHours;
    preferences: UserPreferenceService;
    reports: ReportService;
    twoFactor: TwoFactorService;
    apiTokens: ApiTokenService;
  };
  /** Closes what the container opened, in order: queue, Redis, database. */
  close(): Promise<void>;
}

interface ContainerOptions {
  clock?: Clock;
  calendar?: BusinessCalendar;
  logger?: Logger;
  db?: Database;
}

/** How long requests leave deadlines to the relay after a failed enqueue, before one retries. */
const ENQUEUE_RETRY_AFTER_MS = 10_000;

export async function buildContainer(config: Config, opts: ContainerOptions = {}): Promise<Deps> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const clock = opts.clock ?? systemClock;
  const calendar = opts.calendar ?? createBusinessCalendar();
  const db = opts.db ?? (await openDatabase(config, logger));
  const knex = db.knex;

  const redis = createRedis(config.REDIS_URL, 'producer');
  redis.on('error', () => undefined); // reported through readiness and the warning below
  if (!(await tryConnect(redis))) {
    logger.warn(
      { redis: config.REDIS_URL.replace(/\/\/[^@]*@/, '//***@') },
      'Redis is unavailable: the web keeps working and deadlines stay in PostgreSQL; reminders wait for Redis',
    );
  }
  const queue = createDeadlineQueue(redis, config.QUEUE_PREFIX);
  queue.on('error', () => undefined);

  const deadlines = createDeadlineRepository();
  const outboxIn = createOutboxIn(deadlines);
  // After a failed enqueue, requests stop trying Redis inline for a while (or until it is
  // 'ready' again) and leave their rows to the relay: writes keep their normal speed.
  const enqueueBreaker = createCircuitBreaker({ clock, retryAfterMs: ENQUEUE_RETRY_AFTER_MS });
  redis.on('ready', () => enqueueBreaker.probe());
  const relay = createDeadlineRelay({
    knex,
    deadlines,
    queue,
    clock,
    logger,
    breaker: enqueueBreaker,
    emailRetry: { attempts: config.EMAIL_RETRY_ATTEMPTS, delayMs: config.EMAIL_RETRY_DELAY_MS },
    rearm: {
      cooldownMs: config.DEADLINE_RETRY_COOLDOWN_MS,
      giveUpAfterHours: config.DEADLINE_GIVE_UP_HOURS,
    },
  });
  const auditRows = createAuditRepository();
  const audit = createAuditTrail(auditRows, { boundMs: databaseAnswerBoundMs(config) });
  const structureRuns = createStructureRuns(deadlines);
  const uow = createUnitOfWork(knex, createOutbox(outboxIn, relay));
  const idempotency = createIdempotencyService({ clock, keys: createIdempotencyRepository() });
  const cipher = createCipher(config.ENCRYPTION_KEY);
  const throttle = createLoginThrottle(redis, { keyPrefix: config.QUEUE_PREFIX, clock });

  const mailer = createMailer(config, logger);
  const reportRepo = createReportRepository(cipher);
  const referralRepo = createReferralRepository(cipher);
  const reminders = createReminderRepository();
  const settings = createSettingsService({
    audit,
    knex,
    uow,
    clock,
    replanners: [
      referralReplanner(referralRepo),
      reminderReplanner(reminders),
      digestReplanner,
      reportReplanner(reportRepo),
    ],
    eachPendingOfKinds: deadlines.eachPendingOfKinds,
    settingsRows: createSettingsRepository(),
    // Built just below, on these settings; called only when a change is saved.
    retention: { preview: (db, structureId, months) => retention.preview(db, structureId, months) },
  });
  const retention = createRetentionService({
    audit,
    idempotency,
    knex,
    uow,
    clock,
    relay,
    settings,
    retention: createRetentionRepository(cipher),
    structureRuns,
    outboxIn,
    // The referral service is built below and called only later, when a file is anonymised.
    referrals: {
      tellPartnerCancelled: (trx, outbox, structureId, ids) =>
        referrals.tellPartnerCancelled(trx, outbox, structureId, ids),
    },
  });
  const ruleSettings = ruleSettingsFrom(settings);
  const messageHours = createMessageHours({ settings, outboxIn });
  const planner = createReminderPlanner({ ruleSettings, reminders });
  const persons = createPersonRepository(cipher);
  const contacts = createContactRepository(cipher);

  const followUpRepo = createFollowUpRepository();
  const notifications = createNotificationService({
    knex,
    clock,
    notifications: createNotificationRepository(),
  });
  const sentEmails = createSentEmailRepository();
  const emailChanges = createPartnerEmailChangeRepository();
  // The user and referral-link services are built below and called only later, when an address
  // is confirmed.
  const partners = createPartnerDirectory({
    audit,
    idempotency,
    knex,
    uow,
    clock,
    linkSecret: config.LINK_SECRET,
    notifications,
    managerIds: (db, structureId) => users.activeManagerIds(db, structureId),
    structureName: (db, structureId) => users.structureName(db, structureId),
    expireReferralLinks: (db, partnerId, at) => referralLinks.expireForPartner(db, partnerId, at),
    structuresPartnerReads: (db, partnerId, at) =>
      referralRepo.structuresInPartnerScope(db, partnerId, at),
    partners: createPartnerRepository(emailChanges),
    emailChanges,
    mailer,
    sentEmails,
    publicUrl: config.publicUrl,
  });
  const teams = createTeamService({
    audit,
    knex,
    uow,
    teams: createTeamRepository(),
    idempotency,
  });
  const userRepo = createUserRepository();
  const users = createUserService({
    audit,
    idempotency,
    knex,
    uow,
    clock,
    linkSecret: config.LINK_SECRET,
    teams,
    notifications,
    users: userRepo,
    passwordLinks: createPasswordLinkRepository(),
    mailer,
    sentEmails,
    publicUrl: config.publicUrl,
    partnerOwned: (db, structureId, partnerId) => partners.ownedBy(db, structureId, partnerId),
    // Built below; called only when a user leaves the staff.
    followUps: { heldBy: (db, structureId, userId) => followUps.heldBy(db, structureId, userId) },
    referrals: {
      openRequestedCount: (db, structureId, userId) =>
        referrals.openRequestedCount(db, structureId, userId),
    },
    announcePartnerAccount: (trx, account) => partners.announceAccount(trx, account),
    resetLimits: {
      byAccount: createRateLimiter(redis, {
        keyPrefix: `${config.QUEUE_PREFIX}:reset:account`,
        points: 3,
        durationSeconds: 60 * 60,
      }),
      byIp: createRateLimiter(redis, {
        keyPrefix: `${config.QUEUE_PREFIX}:reset:ip`,
        points: 20,
        durationSeconds: 15 * 60,
      }),
    },
    linkUseLimit: createRateLimiter(redis, {
      keyPrefix: `${config.QUEUE_PREFIX}:password-link:ip`,
      points: 20,
      durationSeconds: 15 * 60,
    }),
  });
  const districts = createDistrictService({
    audit,
    idempotency,
    knex,
    uow,
    districts: createDistrictRepository(),
    clock,
  });
  const personService = createPersonService({
    audit,
    idempotency,
    knex,
    uow,
    persons,
    users,
    clock,
    planner,
    districts,
    // Built below; called only later, inside an update's transaction.
    moveReferentFollowUps: (trx, outbox, actor, personId, fromId, toId, ctx) =>
      followUps.moveWithReferentInTransaction(trx, outbox, actor, personId, fromId, toId, ctx),
  });
  const rights = createRightService({
    audit,
    idempotency,
    knex,
    uow,
    rights: createRightRepository(cipher),
    persons: personService,
    clock,
  });
  const followUps = createFollowUpService({
    audit,
    idempotency,
    knex,
    uow,
    persons: personService,
    users,
    notifications,
    cipher,
    clock,
    planner,
    followUps: followUpRepo,
  });
  const contactService = createContactService({
    audit,
    idempotency,
    knex,
    uow,
    persons: personService,
    contacts,
    followUps,
    clock,
    planner,
  });
  // Built before the referral service it calls back on a revocation (called only later).
  const consents = createConsentService({
    audit,
    idempotency,
    knex,
    uow,
    persons: personService,
    partners,
    clock,
    onReferralConsentRevoked: (trx, outbox, actor, consent) =>
      referrals.cancelForRevokedConsent(trx, outbox, actor, consent),
    consents: createConsentRepository(),
  });
  const referrals = createReferralService({
    audit,
    idempotency,
    knex,
    uow,
    persons: personService,
    users,
    teams,
    consents,
    notifications,
    partners,
    referrals: referralRepo,
    followUps,
    rights,
    clock,
    settings,
    outboxIn,
  });

  const referralLinks = createReferralLinkService({
    audit,
    knex,
    uow,
    referrals: referralRepo,
    referralService: referrals,
    clock,
    links: createReferralLinkRepository(),
    mailer,
    sentEmails,
    linkSecret: config.LINK_SECRET,
    publicUrl: config.publicUrl,
  });

  const personMerges = createPersonMergeService({
    audit,
    knex,
    uow,
    persons,
    merges: createPersonMergeRepository(),
    personService,
    planner,
    clock,
  });
  const auditService = createAuditService({
    knex,
    audit,
    reader: createAuditReader(),
    assertPersonInScope: (db, actor, id) => personService.assertInScope(db, actor, id),
    historyIds: (actor, id) => personMerges.historyIds(actor, id),
    keptFileOf: (actor, id) => personMerges.keptFileOf(actor, id),
  });
  const twoFactor = createTwoFactorService({
    audit,
    knex,
    uow,
    cipher,
    clock,
    settings,
    secrets: createTwoFactorRepository(),
    users,
    // As a login per account and address: 10 codes in 15 minutes.
    ownCodeAttempts: createRateLimiter(redis, {
      keyPrefix: `${config.QUEUE_PREFIX}:two-factor:user`,
      points: 10,
      durationSeconds: 15 * 60,
    }),
  });
  const apiTokens = createApiTokenService({
    audit,
    knex,
    uow,
    clock,
    // As failed logins per address: 100 in 15 minutes.
    failures: createRateLimiter(redis, {
      keyPrefix: `${config.QUEUE_PREFIX}:token:ip`,
      points: 100,
      durationSeconds: 15 * 60,
    }),
    tokens: createApiTokenRepository(),
  });

  const timelineDetails: Record<TimelineType, TimelineDetails> = {
    contact: (db, actor, ids) => contacts.byIds(db, actor.structureId, ids, actor.id),
    follow_up: (db, actor, ids, now) => followUps.byIds(db, actor, ids, now),
    right: (db, actor, ids) => rights.changesByIds(db, actor, ids),
    referral: (db, actor, ids) => referralRepo.findManyForStaff(db, actor.structureId, ids),
    report: (db, actor, ids) => reportRepo.byIds(db, actor.structureId, ids),
  };

  const deps: Deps = {
    config,
    logger,
    clock,
    calendar,
    db,
    knex,
    redis,
    queue,
    relay,
    enqueueBreaker,
    metrics: createMetrics({
      clock,
      jobCounts: () => queue.getJobCounts('waiting', 'delayed', 'failed', 'active'),
      oldestPendingDueAt: () => deadlines.oldestPendingDueAt(knex),
      pool: () => poolStats(knex),
      enqueueBreakerOpen: () => enqueueBreaker.state() !== 'closed',
    }),
    uow,
    outboxIn,
    cipher,
    throttle,
    mailer,
    ruleSettings,
    repos: { deadlines, users: userRepo },
    services: {
      auth: createAuthService({ audit, knex, throttle, users, twoFactor }),
      persons: personService,
      personMerges,
      contacts: contactService,
      followUps,
      followUpReminders: createFollowUpReminderService({
        audit,
        followUps: followUpRepo,
        followUpService: followUps,
        persons: personService,
        users,
        teams,
        notifications,
        ruleSettings,
        outboxIn,
        hasNewerDeadline: deadlines.hasNewer,
        newerDeadlines: deadlines.withNewer,
        lastContactAt: (trx, structureId, personId) =>
          reminders.lastContactAt(trx, structureId, personId, false),
      }),
      backlog: createBacklogService({
        audit,
        knex,
        clock,
        calendar,
        backlog: createBacklogRepository(),
        teams,
      }),
      observation: createObservationService({
        audit,
        knex,
        clock,
        settings,
        observations: createObservationRepository(),
        structureRuns,
        relay,
      }),
      timeline: createTimelineService({
        audit,
        knex,
        persons: personService,
        details: timelineDetails,
        clock,
        timeline: createTimelineRepository(),
      }),
      notifications,
      partners,
      consents,
      referrals,
      referralLinks,
      rights,
      districts,
      settings,
      teams,
      users,
      digests: createDigestService({
        knex,
        clock,
        ruleSettings,
        relay,
        mailer,
        publicUrl: config.publicUrl,
        notifications,
        users,
        referrals,
        sentEmails,
        digests: createDigestRepository(),
        outboxIn,
        messageHours,
        structureRuns,
      }),
      audit: auditService,
      personExports: createPersonExportService({
        knex,
        clock,
        persons: personService,
        merges: personMerges,
        audit: auditService,
        trail: audit,
        settings,
        exports: createPersonExportRepository(cipher),
      }),
      letters: createLetterService({
        audit,
        idempotency,
        uow,
        clock,
        persons: personService,
        contacts: contactService,
        settings,
      }),
      retention,
      deadlineAdmin: createDeadlineAdminService({ audit, knex, queue, relay, clock, deadlines }),
      messageHours,
      preferences: createUserPreferenceService({ knex, users: userRepo }),
      reports: createReportService({
        audit,
        idempotency,
        knex,
        uow,
        reports: reportRepo,
        teams,
        notifications,
        persons: personService,
        settings,
        clock,
        limits: {
          // A resident reports once or twice; an address sending more is a script or a flood.
          byAddress: createRateLimiter(redis, {
            keyPrefix: `${config.QUEUE_PREFIX}:report:ip`,
            points: 10,
            durationSeconds: 60 * 60,
          }),
          // A CCAS receives a few reports a day: many more in an hour is a flood from many
          // addresses, which must not fill the triage queue.
          byStructure: createRateLimiter(redis, {
            keyPrefix: `${config.QUEUE_PREFIX}:report:structure`,
            points: 30,
            durationSeconds: 60 * 60,
          }),
        },
      }),
      twoFactor,
      apiTokens,
    },
    async close() {
      mailer.close();
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await db.close();
    },
  };
  return deps;
}
