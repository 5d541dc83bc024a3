import type { Knex } from 'knex';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { addressKey, consumeOrRefuse } from '../../lib/rate-limit';
import { PERSON_ROLES, toActor, type Actor, type Role } from '../../auth/actor';
import { checkPasswordPolicy, hashPassword } from '../../auth/passwords';
import type { Clock } from '../../lib/clock';
import { sendDeadlineEmail, type Mailer, type SentEmailLog } from '../../lib/mailer';
import type { Deadline } from '../deadlines/outbox';
import { done, skipped, type DeadlineOutcome } from '../deadlines/deadline-outcome';
import { passwordLinkEmail } from './user-emails';
import { BusinessRuleError, checkVersion, ConflictError, NotFoundError } from '../../lib/errors';
import type { Page } from '../../lib/validate';
import { type RequestContext, type AuditTrail } from '../audit/audit-trail';
import type { OutboxWriter, UnitOfWork } from '../deadlines/outbox';
import type { IdempotencyService } from '../idempotency/idempotency-service';
import type { TeamService } from '../teams/team-service';
import type { FollowUpService } from '../follow-ups/follow-up-service';
import type { ReferralService } from '../referrals/referral-service';
import type { NotificationService } from '../notifications/notification-service';
import {
  linkUsable,
  PASSWORD_PATH_PREFIX,
  passwordTokenFor,
  USER_PASSWORD_EMAIL,
  type PasswordLink,
  type PasswordLinkPurpose,
} from './password-links';
import type { PasswordLinkRepository } from './password-link-repository';
import {
  NO_PASSWORD,
  type UserRepository,
  type UserRecord,
  type UserSummary,
} from './user-repository';
import {
  STAFF_LEFT_WITH_WORK,
  type InviteUserInput,
  type ListUsersQuery,
  type UpdateUserInput,
} from './user-schemas';

export type { UserRecord } from './user-repository';

export interface UserServiceDeps {
  audit: AuditTrail;
  knex: Knex;
  uow: UnitOfWork;
  clock: Clock;
  /** LINK_SECRET: set-password tokens are derived from it. */
  linkSecret: string;
  teams: Pick<TeamService, 'setMemberships' | 'changingMembershipsOf' | 'managersOf'>;
  notifications: Pick<NotificationService, 'forgetOnRoleChange' | 'notifyManyInTransaction'>;
  /** What a user holds (built after this service; called only when a user leaves the staff). */
  followUps: Pick<FollowUpService, 'heldBy'>;
  referrals: Pick<ReferralService, 'openRequestedCount'>;
  /** Whether a partner of the directory belongs to the structure (its admins create its users). */
  partnerOwned(
    db: Knex | Knex.Transaction,
    structureId: string,
    partnerId: string,
  ): Promise<boolean>;
  /**
   * A partner account opened (invited, or enabled again), in the caller's transaction: the
   * partner directory tells the other structures with an open referral to the partner, whose
   * referrals the account will read (the directory's announceAccount).
   */
  announcePartnerAccount(
    trx: Knex.Transaction,
    account: {
      partnerId: string;
      structureId: string;
      userId: string;
      email: string;
      ip: string | null;
    },
  ): Promise<void>;
  /** Forgotten-password requests, counted per account and per address as logins are. */
  resetLimits: { byAccount: RateLimiterAbstract; byIp: RateLimiterAbstract };
  /** Passwords set through a link (the API and the page alike), counted per address. */
  linkUseLimit: RateLimiterAbstract;
  users: UserRepository;
  passwordLinks: PasswordLinkRepository;
  mailer: Pick<Mailer, 'send'>;
  sentEmails: SentEmailLog;
  publicUrl: string;
  idempotency: Pick<IdempotencyService, 'once'>;
}

/**
 * The work a user held when they left the staff (disabled, or given a role other than worker or
 * manager), and how many managers were told of it.
 */
export interface WorkLeft {
  followUps: number;
  files: number;
  /** Open referrals they requested: not handed on, their answers go to stand-ins. */
  referrals: number;
  managersTold: number;
}

/**
 * What a leaver's open referrals become, said beside the work to hand on (the notice to the
 * managers, the admin's message): they stay in the leaver's name, and the partners' answers go
 * to the person's référent, else to the team leads (the referral service's stand-in rule).
 */
export function referralsStoodInFor(n: number): string {
  return `${n} ${n > 1 ? 'orientations en cours restent' : 'orientation en cours reste'} à son nom : les réponses des partenaires vont désormais au ou à la référent·e de la personne, sinon aux cadres de ses équipes.`;
}

/** What a change of a user did: the user as saved, and the work they left, if any. */
export interface UserChange {
  user: UserSummary;
  workLeft: WorkLeft | null;
}

/** Why a set-password link does not work, by code; the pages say it in French. */
export type LinkProblem = 'link_invalid' | 'link_expired' | 'link_used';

const isStaff = (role: Role) => PERSON_ROLES.includes(role);

/**
 * Which set-password link a user is sent, whoever asks (an admin or the forgotten-password
 * form): an invitation until they have chosen a password, a new password after. A new link
 * replaces the unused one, so a reset sent to an invitee would cancel their invitation and tell
 * them to keep a password they never had.
 */
const linkPurposeFor = (user: Pick<UserRecord, 'passwordHash'>): PasswordLinkPurpose =>
  user.passwordHash === NO_PASSWORD ? 'invite' : 'reset';

/**
 * The users as the other features see them (who exists, who counts as active staff), and the
 * users managed on screen by admins (spec §1): list, invite with an emailed set-password link
 * (48 h, single use, stored hashed), change role, teams, disable (their sessions end), send a new
 * link; and the forgotten password, answered the same whether or not the account exists.
 */
export function createUserService(deps: UserServiceDeps) {
  const { audit: trail } = deps;
  const { users, passwordLinks, sentEmails } = deps;
  const { knex, uow, clock, linkSecret, teams, resetLimits, idempotency } = deps;

  async function summaryOf(db: Knex | Knex.Transaction, structureId: string, id: string) {
    // One user: the list query narrowed by id keeps one mapping of the row.
    const { items } = await users.listInStructure(db, structureId, {
      id,
      page: 1,
      pageSize: 1,
    });
    return items[0];
  }

  /** A new set-password link for the user (locked or just created), its email after commit. */
  async function sendLink(
    trx: Knex.Transaction,
    outbox: OutboxWriter,
    user: Pick<UserRecord, 'id' | 'structureId' | 'passwordHash'>,
  ): Promise<PasswordLink> {
    const now = clock.now();
    const { structureId } = user;
    const link = await passwordLinks.issue(trx, linkSecret, {
      structureId,
      userId: user.id,
      purpose: linkPurposeFor(user),
      at: now,
    });
    // The email leaves from a job, after commit, like every email.
    await outbox.schedule({
      structureId,
      kind: USER_PASSWORD_EMAIL,
      subjectType: 'password_link',
      subjectId: link.id,
      dueAt: now,
    });
    return link;
  }

  const audit = (
    db: Knex | Knex.Transaction,
    actor: Actor | null,
    structureId: string,
    action: string,
    userId: string,
    ip: string | null,
    details?: Record<string, unknown>,
  ) =>
    trail.record(db, {
      actor,
      structureId,
      action,
      subjectType: 'user',
      subjectId: userId,
      ip,
      details,
    });

  /**
   * A user leaves the staff while holding work to hand on (open follow-ups, active files as
   * référent): the managers leading their teams (else the structure's, as for an escalation) are
   * told in the app, in the change's transaction, before the change takes them out of their
   * teams. The notice counts the work and names no person (its subject is the user), and leads
   * to the backlog's form that hands a leaver's work on. Their open referrals are not work to
   * hand on (that form moves none): their answers go to the person's référent or the team leads
   * (the referral service's stand-in rule), so they are only mentioned beside the rest.
   */
  async function tellManagersOfWorkLeft(
    trx: Knex.Transaction,
    actor: Actor,
    user: UserRecord,
    disabled: boolean,
  ): Promise<WorkLeft | null> {
    const held = await deps.followUps.heldBy(trx, actor.structureId, user.id);
    if (held.followUps + held.files === 0) return null;
    const referrals = await deps.referrals.openRequestedCount(trx, actor.structureId, user.id);
    const managers = await teams.managersOf(trx, actor.structureId, user.id);
    const count = (n: number, one: string, many: string) => (n ? `${n} ${n > 1 ? many : one}` : '');
    const work = [
      count(held.followUps, 'suivi ouvert', 'suivis ouverts'),
      count(
        held.files,
        'dossier dont il ou elle est référent·e',
        'dossiers dont il ou elle est référent·e',
      ),
    ].filter(Boolean);
    const list = work.length > 1 ? `${work.slice(0, -1).join(', ')} et ${work.at(-1)}` : work[0];
    const now = clock.now();
    const managersTold = await deps.notifications.notifyManyInTransaction(
      trx,
      managers.map((m) => ({
        structureId: actor.structureId,
        recipientId: m.id,
        kind: STAFF_LEFT_WITH_WORK,
        subjectType: 'user',
        subjectId: user.id,
        dueMoment: now,
        title: disabled
          ? `Le compte de ${user.name} est désactivé : du travail reste à confier`
          : `${user.name} ne fait plus partie des équipes de terrain : du travail reste à confier`,
        body: `${list[0].toUpperCase()}${list.slice(1)}. Confiez ce travail depuis « Confier tout le travail d’une personne à une autre ».${referrals ? ` ${referralsStoodInFor(referrals)}` : ''}`,
        // The manager's home (the backlog), at the form that moves a leaver's work.
        link: '/#depart',
      })),
    );
    return { ...held, referrals, managersTold };
  }

  /**
   * A user's change once its rules have passed (an admin's update, the operator's disable from
   * the command line): a user leaving the staff with work has their managers told, the account
   * is saved, the teams they are listed in move their versions, a role taken away takes its
   * leads, memberships and notices, a disabled account loses its set-password links and every
   * session ends; audited by the actor, or with none for the operator.
   */
  async function applyChange(
    trx: Knex.Transaction,
    actor: Actor | null,
    user: UserRecord,
    change: {
      name?: string;
      newRole?: Role;
      disabled?: boolean;
      teamIds?: string[];
      /** The fields given, as the audit event lists them. */
      fields: string[];
      ip: string | null;
    },
  ): Promise<WorkLeft | null> {
    const { id, structureId } = user;
    const { newRole, disabled, teamIds } = change;
    // Disabled, or no longer worker nor manager: whatever they hold must be handed on.
    const leaves =
      isStaff(user.role) &&
      !user.disabledAt &&
      (disabled === true || (newRole !== undefined && !isStaff(newRole)));
    // Only the structure is read from the actor there; the operator has none, the user's stands in.
    const left = leaves
      ? await tellManagersOfWorkLeft(trx, actor ?? toActor(user), user, disabled === true)
      : null;
    await users.update(trx, id, { name: change.name, role: newRole, disabled });
    // Teams change with a role taken away or new teams, and what they list with the account
    // disabled or enabled again: those teams lock first (after the user), once, in id order.
    const listing = disabled !== undefined && disabled !== Boolean(user.disabledAt);
    if (newRole !== undefined || teamIds !== undefined || listing)
      await teams.changingMembershipsOf(
        trx,
        structureId,
        id,
        teamIds ?? [],
        async () => {
          if (newRole && newRole !== 'manager') await users.dropLeads(trx, id);
          if (newRole && !isStaff(newRole)) await users.dropMemberships(trx, id);
          if (teamIds !== undefined) await teams.setMemberships(trx, structureId, id, teamIds);
        },
        listing,
      );
    // Made observer or admin: what they were told about persons as staff goes with the role.
    if (newRole !== undefined) await deps.notifications.forgetOnRoleChange(trx, id, newRole);
    if (disabled) await passwordLinks.revokeAll(trx, id, clock.now());
    if (disabled || newRole !== undefined) await users.endSessions(trx, id);
    await audit(trx, actor, structureId, 'user.update', id, change.ip, {
      fields: change.fields,
      ...(newRole ? { from: user.role, to: newRole } : {}),
      ...(disabled !== undefined ? { disabled } : {}),
      ...(actor ? {} : { by: 'operator' }),
    });
    // A partner account enabled again reads the partner's referrals again, as a new one.
    if (user.partnerId && user.disabledAt && disabled === false)
      await deps.announcePartnerAccount(trx, {
        partnerId: user.partnerId,
        structureId,
        userId: id,
        email: user.email,
        ip: change.ip,
      });
    return left;
  }

  const consume = (limiter: RateLimiterAbstract, key: string) =>
    consumeOrRefuse(
      limiter,
      key,
      'Too many requests for a new password; wait a while and try again',
    );

  return {
    /** A structure's name, as emails name their sender (null when there is none). */
    structureName: (db: Knex | Knex.Transaction, structureId: string) =>
      users.structureName(db, structureId),

    /**
     * 'user.password_email': the invitation or set-password email. The token is rebuilt from
     * the link's id, so a redelivery sends the same working link with the same Message-ID;
     * `sent_emails` (unique per deadline) makes a second delivery after commit a no-op.
     */
    async sendPasswordEmail(
      trx: Knex.Transaction,
      deadline: Deadline,
      now: Date,
    ): Promise<DeadlineOutcome> {
      if (await sentEmails.wasSent(trx, deadline.id)) return skipped('email already sent');
      const link = await passwordLinks.findById(trx, deadline.subjectId);
      if (!link) return skipped('link not found');
      if (!linkUsable(link, now)) return skipped('link used, replaced or expired');
      const user = await users.findById(trx, link.userId);
      if (!user || user.disabledAt) return skipped('user disabled');
      const structureName = (await users.structureName(trx, link.structureId)) ?? 'aller-vers';
      await sendDeadlineEmail(deps, trx, deadline, now, (messageId) =>
        passwordLinkEmail({
          purpose: link.purpose,
          to: user.email,
          userName: user.name,
          structureName,
          url: `${deps.publicUrl}${PASSWORD_PATH_PREFIX}${passwordTokenFor(linkSecret, link.id)}`,
          expiresAt: link.expiresAt,
          messageId,
        }),
      );
      return done();
    },

    /** Signing in: the user of this email (case-insensitive), disabled ones included. */
    findByEmail: (email: string): Promise<UserRecord | null> => users.findByEmail(knex, email),

    /** An enabled worker or manager of the structure, or null (the active-staff rule). */
    findActiveStaff: (
      db: Knex | Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<UserRecord | null> => users.findActiveStaff(db, structureId, id),

    /** The structure's enabled managers. */
    activeManagerIds: (db: Knex | Knex.Transaction, structureId: string): Promise<string[]> =>
      users.activeManagerIds(db, structureId),

    /** The structure's active workers and managers, by name. */
    listActiveStaff: (structureId: string): Promise<Pick<Actor, 'id' | 'name' | 'role'>[]> =>
      users.listActiveStaff(knex, structureId),

    /** Any user of the structure, disabled ones included (a leaver whose work is moved). */
    findAnyInStructure: (
      db: Knex | Knex.Transaction,
      structureId: string,
      id: string,
    ): Promise<UserRecord | null> => users.findAnyInStructure(db, structureId, id),

    /**
     * Ends every session of a user, in the caller's transaction: what they signed in with no
     * longer holds (a factor reset, a role change, a disabled account, a new password). The
     * session epoch moves on with it, so a session written back by a request in flight ends too.
     */
    async endSessions(trx: Knex.Transaction, userId: string): Promise<number> {
      return users.endSessions(trx, userId);
    },

    async list(actor: Actor, q: ListUsersQuery): Promise<Page<UserSummary>> {
      const { items, total } = await users.listInStructure(knex, actor.structureId, q);
      return { items, total, page: q.page, pageSize: q.pageSize };
    },

    async get(actor: Actor, id: string): Promise<UserSummary> {
      if (!(await users.findAnyInStructure(knex, actor.structureId, id)))
        throw new NotFoundError('User');
      return summaryOf(knex, actor.structureId, id);
    },

    /** Invites a user; once per idempotency key: a repeat answers the user the first made. */
    async invite(actor: Actor, input: InviteUserInput, ctx: RequestContext): Promise<UserSummary> {
      return uow((trx, outbox) =>
        idempotency.once(trx, actor, ctx, {
          action: 'user.invite',
          input,
          async create() {
            if (
              input.partnerId &&
              !(await deps.partnerOwned(trx, actor.structureId, input.partnerId))
            )
              throw new BusinessRuleError(
                'partner_not_found',
                'This partner is not one of your structure’s partners',
                { field: 'partnerId' },
              );
            const user = await users.insert(trx, {
              structureId: actor.structureId,
              email: input.email,
              name: input.name,
              role: input.role,
              partnerId: input.partnerId ?? null,
              passwordHash: NO_PASSWORD,
            });
            if (!user) {
              // Held by a user of this structure (perhaps disabled): which one, so that the admin
              // goes to that account (to enable it again) rather than inviting a second. Nothing
              // is said of another structure's user.
              const holder = await users.findInStructureByEmail(
                trx,
                actor.structureId,
                input.email,
              );
              throw new ConflictError(
                'A user already has this email address',
                holder
                  ? { field: 'email', userId: holder.id, disabled: Boolean(holder.disabledAt) }
                  : { field: 'email' },
              );
            }
            const teamIds = input.teamIds ?? [];
            if (teamIds.length)
              await teams.changingMembershipsOf(trx, actor.structureId, user.id, teamIds, () =>
                teams.setMemberships(trx, actor.structureId, user.id, teamIds),
              );
            await sendLink(trx, outbox, user);
            await audit(trx, actor, actor.structureId, 'user.invite', user.id, ctx.ip, {
              role: input.role,
            });
            if (user.partnerId)
              await deps.announcePartnerAccount(trx, {
                partnerId: user.partnerId,
                structureId: actor.structureId,
                userId: user.id,
                email: user.email,
                ip: ctx.ip,
              });
            return summaryOf(trx, actor.structureId, user.id);
          },
          keep: (u) => ({ userId: u.id }),
          replay: ({ userId }) => summaryOf(trx, actor.structureId, userId),
        }),
      );
    },

    async update(
      actor: Actor,
      id: string,
      input: UpdateUserInput,
      ctx: RequestContext,
    ): Promise<UserChange> {
      const workLeft = await uow(async (trx) => {
        const user = await users.lockInStructure(trx, actor.structureId, id);
        if (!user) throw new NotFoundError('User');
        await checkVersion(
          input.version,
          user.version,
          'This user was changed by someone else; reload it',
          () => summaryOf(trx, actor.structureId, id),
        );
        if (id === actor.id && (input.disabled || (input.role && input.role !== 'admin')))
          throw new BusinessRuleError(
            'self_lockout',
            'You cannot disable your own account or give up your own admin role',
          );
        const role = input.role ?? user.role;
        // The user page sends the role with every save: only a different one is a role change
        // (its sessions end, its leads and memberships may go, its notices are forgotten).
        const newRole =
          input.role !== undefined && input.role !== user.role ? input.role : undefined;
        // The structure keeps an enabled admin: taking the last one's role or access away would
        // leave nobody to manage its users. Counted under a lock per structure, so two admins
        // demoting or disabling each other at once do not both pass.
        if (
          user.role === 'admin' &&
          !user.disabledAt &&
          (input.disabled === true || (newRole !== undefined && newRole !== 'admin'))
        ) {
          await users.lockAdminsOf(trx, actor.structureId);
          if ((await users.countOtherEnabledAdmins(trx, actor.structureId, id)) === 0)
            throw new BusinessRuleError(
              'last_admin',
              'The structure would be left without an enabled admin',
              { field: input.disabled === true ? 'disabled' : 'role' },
            );
        }
        if (newRole && (newRole === 'partner' || user.role === 'partner'))
          throw new BusinessRuleError(
            'partner_role',
            'A partner account stays a partner account; invite a new user instead',
            { field: 'role' },
          );
        if (input.teamIds !== undefined) {
          // A disabled user gets no new team, unless the same change enables them again; the
          // teams they hold may be sent back as they are (their page does) or taken away.
          if (user.disabledAt && input.disabled !== false) {
            const held = new Set(
              (await summaryOf(trx, actor.structureId, id)).teams.map((t) => t.id),
            );
            if (input.teamIds.some((t) => !held.has(t)))
              throw new BusinessRuleError('user_disabled', 'This user is disabled', {
                field: 'teamIds',
              });
          }
          if (!isStaff(role) && input.teamIds.length)
            throw new BusinessRuleError('not_staff', 'Only workers and managers belong to teams', {
              field: 'teamIds',
            });
        }
        return applyChange(trx, actor, user, {
          name: input.name,
          newRole,
          disabled: input.disabled,
          teamIds: input.teamIds,
          fields: Object.keys(input),
          ip: ctx.ip,
        });
      });
      return { user: await summaryOf(knex, actor.structureId, id), workLeft };
    },

    /**
     * The operator disables an account from the command line (`users:disable`): the admin's
     * disable, with no actor (audited as the operator's) and no last-admin rule, since the
     * operator answers for the structure's access (a production start disables the seed
     * accounts, admins included).
     */
    async disableAsOperator(email: string): Promise<{ id: string; workLeft: WorkLeft | null }> {
      const found = await users.findByEmail(knex, email);
      if (!found) throw new NotFoundError(`User ${email}`);
      const workLeft = await uow(async (trx) => {
        const user = await users.lockInStructure(trx, found.structureId, found.id);
        if (!user) throw new NotFoundError(`User ${email}`);
        if (user.disabledAt) throw new ConflictError(`User ${email} is already disabled`);
        return applyChange(trx, null, user, { disabled: true, fields: ['disabled'], ip: null });
      });
      return { id: found.id, workLeft };
    },

    /** A new set-password link for a user (the older ones stop working). */
    async sendPasswordLink(
      actor: Actor,
      id: string,
      ctx: RequestContext,
    ): Promise<{ expiresAt: Date }> {
      return uow(async (trx, outbox) => {
        const user = await users.lockInStructure(trx, actor.structureId, id);
        if (!user) throw new NotFoundError('User');
        if (user.disabledAt)
          throw new BusinessRuleError(
            'user_disabled',
            'This user is disabled; enable the account before sending a link',
          );
        const link = await sendLink(trx, outbox, user);
        await audit(trx, actor, actor.structureId, 'user.password_link', id, ctx.ip);
        return { expiresAt: link.expiresAt };
      });
    },

    /**
     * A forgotten password: a link is sent when the address is an active account's; the answer
     * is the same either way, and requests are throttled per address and per IP alike.
     */
    async requestReset(email: string, ip: string): Promise<void> {
      await consume(resetLimits.byIp, addressKey(ip));
      await consume(resetLimits.byAccount, email.trim().toLowerCase());
      const found = await users.findByEmail(knex, email.trim());
      if (!found || found.disabledAt) return;
      await uow(async (trx, outbox) => {
        // Locked as an admin's new link or a password being set lock it: whether the user has a
        // password yet (which link they get) cannot change underneath.
        const user = await users.lockInStructure(trx, found.structureId, found.id);
        if (!user || user.disabledAt) return;
        await sendLink(trx, outbox, user);
        await audit(trx, null, user.structureId, 'user.password_reset_requested', user.id, ip);
      });
    },

    /** What a set-password link opens on: the user's name, or why it does not work. */
    async linkState(
      token: string,
    ): Promise<{ ok: true; name: string; email: string } | { ok: false; problem: LinkProblem }> {
      const link = await passwordLinks.findByToken(knex, token);
      const problem = await problemOf(knex, link);
      if (problem) return { ok: false, problem };
      const user = await users.findById(knex, link!.userId);
      return { ok: true, name: user!.name, email: user!.email };
    },

    /**
     * Sets the password through a link. Failed attempts are throttled per address; an unknown,
     * used or expired link is refused on an indexed read, before the policy check and the
     * argon2id hash (a flood of random tokens would otherwise buy a full hash each); then the
     * policy (a refused password leaves the link usable); then, the link checked again under its
     * lock, it is used up, every session of the user ends, and it is audited.
     */
    async setPassword(token: string, password: string, ip: string): Promise<{ email: string }> {
      await consumeOrRefuse(
        deps.linkUseLimit,
        addressKey(ip),
        'Too many attempts to set a password from this address; wait a while and try again',
      );
      const found = await problemOf(knex, await passwordLinks.findByToken(knex, token));
      if (found) throw linkError(found);
      await checkPasswordPolicy(password);
      const hash = await hashPassword(password);
      const set = await uow(async (trx) => {
        // The user before the link, as disabling the account or sending a new link lock them
        // (then revoke the user's links): one order, no deadlock with either.
        const seen = await passwordLinks.findByToken(trx, token);
        if (seen) await users.lockInStructure(trx, seen.structureId, seen.userId);
        const link = await passwordLinks.lockByToken(trx, token);
        const problem = await problemOf(trx, link);
        if (problem) throw linkError(problem);
        const user = (await users.findById(trx, link!.userId))!;
        await users.setPassword(trx, user.id, hash);
        await passwordLinks.markUsed(trx, link!.id, clock.now());
        await users.endSessions(trx, user.id);
        await audit(trx, null, user.structureId, 'user.password_set', user.id, ip, {
          purpose: link!.purpose,
        });
        return { email: user.email };
      });
      // An address pays for failures only, as with logins: an office whose staff set their
      // passwords one after the other never uses it up.
      await deps.linkUseLimit.reward(addressKey(ip), 1);
      return set;
    },
  };

  async function problemOf(
    db: Knex | Knex.Transaction,
    link: PasswordLink | null,
  ): Promise<LinkProblem | null> {
    if (!link || link.revokedAt) return 'link_invalid';
    const user = await users.findById(db, link.userId);
    if (!user || user.disabledAt) return 'link_invalid';
    if (link.usedAt) return 'link_used';
    if (!linkUsable(link, clock.now())) return 'link_expired';
    return null;
  }
}

function linkError(problem: LinkProblem) {
  if (problem === 'link_invalid') return new NotFoundError('Link', 'link_invalid');
  return new BusinessRuleError(
    problem,
    problem === 'link_used' ? 'This link was already used' : 'This link has expired',
  );
}

export type UserService = ReturnType<typeof createUserService>;
