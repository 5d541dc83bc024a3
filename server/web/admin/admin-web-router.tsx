import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { hasRole } from '../../auth/policies';
import type { Deps } from '../../container';
import { requestContext } from '../../http/request-context';
import {
  patchSettingsBody,
  type RetentionConfirmation,
} from '../../features/settings/settings-schemas';
import { createTeamBody, updateTeamBody } from '../../features/teams/team-schemas';
import { inviteUserBody, updateUserBody } from '../../features/users/user-schemas';
import { referralsStoodInFor, type WorkLeft } from '../../features/users/user-service';
import { AppError, hasCode, NotFoundError, ValidationError } from '../../lib/errors';
import { parseInput } from '../../lib/validate';
import {
  changedFields,
  formList,
  formValues,
  namesOf,
  parseWith,
  resentForm,
  versionField,
} from '../forms';
import { plural } from '../format';
import { csrf, pageContext } from '../page-context';
import {
  actorOf,
  creationContext,
  idOf,
  pageQuery,
  redirect,
  redirectPastLastPage,
} from '../page-helpers';
import { sendPage } from '../render';
import { emptyForm, staleForm, type FormState } from '../views/components';
import {
  type AddressHolder,
  AdminHomePage,
  PartnerAccountsPage,
  ROLE_LABELS,
  SETTINGS_LABELS,
  SETTINGS_LEGAL_FIELDS,
  SETTINGS_NUMBER_FIELDS,
  LETTERHEAD_FIELDS,
  partnerAccountsPageHref,
  SettingsPage,
  TeamPage,
  TeamsPage,
  UserPage,
  UsersPage,
  usersPageHref,
} from './admin-views';

type Services = Deps['services'];

/** Only workers and managers belong to teams: said of the schema's rule and the service's. */
const NOT_STAFF = 'Seuls les travailleur·ses sociaux·ales et les cadres font partie d’équipes';
/** Field messages in French, for the fields a service or zod names (`field:rule` for a rule). */
const USER_MESSAGES: Record<string, string> = {
  email: 'Saisissez une adresse électronique valide, par exemple prenom.nom@ccas.fr',
  name: 'Saisissez le nom (200 caractères au plus)',
  role: 'Choisissez un rôle',
  teamIds: 'Choisissez des équipes de la structure',
  'teamIds:not_staff': NOT_STAFF,
};
/** The structure's accounts and a partner's come in pages of this many. */
const ACCOUNTS_PAGE_SIZE = 50;
/** A user's access form: its one button sends the state to set, nothing else. */
const accessForm = z.object({ _csrf: z.string(), disabled: z.enum(['true', 'false']) }).strict();

const TEAM_MESSAGES: Record<string, string> = {
  name: 'Saisissez un nom d’équipe (100 caractères au plus)',
  memberIds: 'Choisissez des membres actifs de la structure',
  managerIds: 'Choisissez des cadres actifs de la structure',
};
const SETTINGS_MESSAGES: Record<string, string> = {
  digestTime:
    'Saisissez une heure au format HH:MM, entre le début et la fin de la journée de travail (la fin exclue)',
  accessibilityLevel: 'Choisissez un niveau de conformité',
  accessibilityAuditDate: 'Saisissez une date au format AAAA-MM-JJ, ou laissez vide',
  publisherAddress: 'Saisissez au plus 500 caractères',
  hostingProvider: 'Saisissez au plus 500 caractères',
  publicationDirector: 'Saisissez au plus 200 caractères',
  accessibilityIssues: 'Saisissez au plus 5000 caractères',
  accessibilityContact: 'Saisissez au plus 300 caractères',
  dpoContact: 'Saisissez au plus 300 caractères',
  workingStart: 'Saisissez une heure au format HH:MM, avant la fin de journée',
  workingEnd: 'Saisissez une heure au format HH:MM, après le début de journée',
  letterheadName: 'Saisissez 200 caractères au plus',
  letterheadAddress1: 'Saisissez 200 caractères au plus',
  letterheadAddress2: 'Saisissez 200 caractères au plus',
  letterheadAddress3: 'Saisissez 200 caractères au plus',
  letterheadPhone: 'Saisissez 30 caractères au plus',
  letterheadEmail: 'Saisissez une adresse électronique valide, par exemple accueil@ccas.fr',
  followUpEscalationDays: 'Saisissez un nombre de jours plus grand que celui de la relance',
  referralExpiryDays: 'Saisissez un nombre de jours au moins égal au délai de réponse',
  noContactCloseDays:
    'Saisissez un nombre de jours plus grand que celui de la relance sans contact',
};
const NUMBER_MESSAGE = 'Saisissez un nombre entier dans les limites permises';

/** What a shorter retention would anonymise, said on its field with the way to confirm it. */
function retentionMessage(d: RetentionConfirmation): string {
  const count = (n: number, one: string, many: string) => (n > 1 ? `${n} ${many}` : `${n} ${one}`);
  const what = [
    d.persons > 0
      ? `${count(d.persons, 'dossier', 'dossiers')} sans activité depuis plus de ${d.retentionMonths} mois ${d.persons > 1 ? 'seront anonymisés' : 'sera anonymisé'}`
      : '',
    d.reports > 0
      ? `${count(d.reports, 'signalement', 'signalements')} ${d.reports > 1 ? 'seront effacés' : 'sera effacé'}`
      : '',
  ]
    .filter(Boolean)
    .join(' et ');
  return `Avec ${d.retentionMonths} mois au lieu de ${d.currentRetentionMonths}, ${what} la nuit prochaine, sans retour possible : cochez « ${SETTINGS_LABELS.confirmRetention} » pour l’enregistrer quand même, ou gardez une durée plus longue`;
}

/**
 * The work a user still held when they left the staff, and who was told, after the change's own
 * message; nothing when they held none. Their open referrals are said apart: nobody hands them
 * on, their answers go to the person's référent or the team leads.
 */
function workLeftText(w: WorkLeft | null): string {
  if (!w) return '';
  const held = [
    w.followUps ? plural(w.followUps, 'suivi ouvert', 'suivis ouverts') : '',
    w.files ? plural(w.files, 'dossier de référent·e', 'dossiers de référent·e') : '',
  ].filter(Boolean);
  const list = held.length > 1 ? `${held.slice(0, -1).join(', ')} et ${held.at(-1)}` : held[0];
  const told =
    w.managersTold > 0
      ? `${plural(w.managersTold, 'cadre en est averti·e', 'cadres en sont avertis')} pour confier ce travail à quelqu’un d’autre.`
      : 'aucun·e cadre actif·ve n’a pu en être averti·e : ce travail reste à confier.';
  const referrals = w.referrals ? ` ${referralsStoodInFor(w.referrals)}` : '';
  return ` Cette personne avait encore ${list} : ${told}${referrals}`;
}

/** The form field a service error names (`details.field`, or zod's first path element). */
function fieldsOf(err: unknown): string[] {
  if (err instanceof ValidationError)
    return ((err.details as { field: string }[] | undefined) ?? []).map((d) => d.field);
  if (err instanceof AppError && err.details && typeof err.details === 'object') {
    const f = (err.details as { field?: unknown }).field;
    if (typeof f === 'string') return [f];
  }
  return [];
}

/**
 * Zod issues of a form's body, by the form's own field names; a schema's rule that names itself
 * (`params.rule`) takes its `field:rule` message when there is one, as `issueMessage` does.
 */
function zodErrors(
  issues: z.core.$ZodIssue[],
  messages: Record<string, string>,
  rename: (path: string) => string = (p) => p,
): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const i of issues) {
    const field = rename(i.path.map(String).join('.')).split('.')[0];
    const rule = i.code === 'custom' ? i.params?.rule : undefined;
    const ruled = typeof rule === 'string' ? messages[`${field}:${rule}`] : undefined;
    errors[field] ??= ruled ?? messages[field] ?? NUMBER_MESSAGE;
  }
  return errors;
}

/** The admin's home and the pages of users, teams, settings and a partner's accounts. */
export function adminWebRouter(services: Services): Router {
  const r = Router();
  const admin = () => hasRole('admin');
  const ctxOf = (req: Request) => pageContext(req, services.notifications, { withToken: true });

  r.get('/admin', admin(), async (req, res) => {
    const actor = actorOf(req);
    const [users, teams, districts, ctx] = await Promise.all([
      services.users.list(actor, { page: 1, pageSize: 1 }),
      services.teams.list(actor),
      services.districts.list(actor),
      ctxOf(req),
    ]);
    sendPage(
      res,
      <AdminHomePage
        ctx={ctx}
        counts={{ users: users.total, teams: teams.total, districts: districts.total }}
      />,
    );
  });

  // ---- Users ---------------------------------------------------------------------------------
  async function renderUsers(
    req: Request,
    res: Response,
    form: FormState,
    status = 200,
    page = 1,
    holder?: AddressHolder,
  ) {
    const actor = actorOf(req);
    const [users, teams, ctx] = await Promise.all([
      services.users.list(actor, { page, pageSize: ACCOUNTS_PAGE_SIZE }),
      services.teams.list(actor),
      ctxOf(req),
    ]);
    if (await redirectPastLastPage(req, res, users, usersPageHref, ctx.flash)) return;
    sendPage(
      res,
      <UsersPage ctx={ctx} users={users} teams={teams.items} form={form} holder={holder} />,
      status,
    );
  }

  r.get('/admin/utilisateurs', admin(), async (req, res) => {
    const q = pageQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    await renderUsers(req, res, emptyForm({ role: 'worker' }), 200, q.data.page);
  });

  r.post('/admin/utilisateurs', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['name', 'email', 'role']);
    const teamIds = formList(req.body, 'teamIds');
    const formVals = { ...values, teamIds: teamIds.join(',') };
    const parsed = inviteUserBody.safeParse({ ...values, teamIds });
    if (!parsed.success || parsed.data.role === 'partner') {
      const errors = parsed.success
        ? { role: USER_MESSAGES.role }
        : zodErrors(parsed.error.issues, USER_MESSAGES);
      return renderUsers(req, res, { values: formVals, errors }, 400);
    }
    try {
      const user = await services.users.invite(actorOf(req), parsed.data, creationContext(req));
      return redirect(req, res, `/admin/utilisateurs/${user.id}`, {
        type: 'success',
        message: `Invitation envoyée à ${user.email} : le lien est valable 48 heures.`,
      });
    } catch (err) {
      const resent = resentForm(err, formVals);
      if (resent) return renderUsers(req, res, resent, 422);
      const form = inviteError(err, formVals);
      if (!form) throw err;
      return renderUsers(req, res, form, 400, 1, addressHolder(err));
    }
  });

  /** The user of the structure holding the address an invitation was refused for, if any. */
  function addressHolder(err: unknown): AddressHolder | undefined {
    if (!hasCode(err, 'conflict')) return undefined;
    const d = err.details as { userId?: string; disabled?: boolean } | undefined;
    return d?.userId ? { userId: d.userId, disabled: Boolean(d.disabled) } : undefined;
  }

  function inviteError(err: unknown, values: Record<string, string>): FormState | null {
    if (hasCode(err, 'conflict'))
      return { values, errors: { email: 'Un compte utilise déjà cette adresse électronique' } };
    if (hasCode(err, 'team_not_found'))
      return { values, errors: { teamIds: 'Une des équipes choisies n’existe plus' } };
    if (hasCode(err, 'validation_failed', 'not_staff'))
      return {
        values,
        errors: Object.fromEntries(
          (fieldsOf(err).length ? fieldsOf(err) : ['role']).map((f) => [
            f,
            USER_MESSAGES[`${f}:${(err as AppError).code}`] ??
              USER_MESSAGES[f] ??
              USER_MESSAGES.role,
          ]),
        ),
      };
    return null;
  }

  /** A user's page; a stale form (a 409) beside what is saved now. */
  async function renderUser(req: Request, res: Response, form: FormState | null, status = 200) {
    const actor = actorOf(req);
    const user = await services.users.get(actor, idOf(req));
    const [teams, ctx, partner, twoFactor] = await Promise.all([
      services.teams.list(actor),
      ctxOf(req),
      user.partnerId ? services.partners.get(user.partnerId).catch(() => null) : null,
      services.twoFactor.statusOf(actor, user.id),
    ]);
    const saved = {
      name: user.name,
      role: user.role,
      teamIds: user.teams
        .filter((t) => !t.isLead)
        .map((t) => t.id)
        .join(','),
    };
    const values = form ?? emptyForm(saved);
    sendPage(
      res,
      <UserPage
        ctx={ctx}
        user={user}
        teams={teams.items}
        form={values}
        partnerName={partner?.name ?? null}
        twoFactor={twoFactor}
        changed={
          form?.stale
            ? changedFields(form.values, saved, {
                lists: ['teamIds'],
                show: (name, raw) =>
                  name === 'role'
                    ? (ROLE_LABELS[raw as keyof typeof ROLE_LABELS] ?? raw)
                    : name === 'teamIds'
                      ? namesOf(raw, teams.items)
                      : raw,
              })
            : undefined
        }
      />,
      status,
    );
  }

  r.get('/admin/utilisateurs/:id', admin(), (req, res) => renderUser(req, res, null));

  r.post('/admin/utilisateurs/:id', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    // The version stays in what is shown back: a refused form corrected and saved again is still
    // checked against the version it was read at (a 409 shows it at the saved one: staleForm).
    const values = formValues(req.body, ['name', 'role']);
    const teamIds = formList(req.body, 'teamIds');
    const formVals = {
      ...values,
      teamIds: teamIds.join(','),
      ...formValues(req.body, ['version']),
    };
    const user = await services.users.get(actorOf(req), id);
    const body = {
      ...values,
      ...(user.role === 'partner' ? {} : { teamIds }),
      ...versionField(req.body),
    };
    const parsed = updateUserBody.safeParse(body);
    if (!parsed.success)
      return renderUser(
        req,
        res,
        { values: formVals, errors: zodErrors(parsed.error.issues, USER_MESSAGES) },
        400,
      );
    try {
      const { workLeft } = await services.users.update(
        actorOf(req),
        id,
        parsed.data,
        requestContext(req),
      );
      return redirect(req, res, `/admin/utilisateurs/${id}`, {
        type: 'success',
        message: `Les changements sont enregistrés.${workLeftText(workLeft)}`,
      });
    } catch (err) {
      // Changed meanwhile: the typing stays, beside what is saved now, at the saved version.
      if (hasCode(err, 'stale_version')) return renderUser(req, res, staleForm(formVals), 409);
      const message = userRefusal(err);
      if (!message) throw err;
      return renderUser(req, res, { values: formVals, errors: { [message[0]]: message[1] } }, 422);
    }
  });

  function userRefusal(err: unknown): [string, string] | null {
    if (!(err instanceof AppError)) return null;
    switch (err.code) {
      case 'self_lockout':
        return ['role', 'Vous ne pouvez pas retirer votre propre rôle d’administrateur·rice'];
      case 'last_admin':
        return [
          'role',
          'C’est le dernier compte administrateur actif de la structure : donnez d’abord ce rôle à quelqu’un d’autre',
        ];
      case 'partner_role':
        return [
          'role',
          'Un compte partenaire reste un compte partenaire ; invitez plutôt un nouveau compte',
        ];
      case 'user_disabled':
        return [
          'teamIds',
          'Ce compte est désactivé : réactivez-le avant de lui donner des équipes',
        ];
      case 'team_not_found':
        return ['teamIds', 'Une des équipes choisies n’existe plus'];
      case 'not_staff':
        return ['teamIds', NOT_STAFF];
      default:
        return null;
    }
  }

  r.post(
    '/admin/utilisateurs/:id/lien',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const id = idOf(req);
      try {
        await services.users.sendPasswordLink(actorOf(req), id, requestContext(req));
        await redirect(req, res, `/admin/utilisateurs/${id}`, {
          type: 'success',
          message: 'Un nouveau lien a été envoyé ; les liens précédents ne fonctionnent plus.',
        });
      } catch (err) {
        if (!hasCode(err, 'user_disabled')) throw err;
        await redirect(req, res, `/admin/utilisateurs/${id}`, {
          type: 'error',
          message: 'Ce compte est désactivé : réactivez-le avant d’envoyer un lien.',
        });
      }
    },
  );

  r.post(
    '/admin/utilisateurs/:id/acces',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const id = idOf(req);
      // Anything but 'true' or 'false' is a 400 and changes nothing (it once re-enabled).
      const disabled = parseInput(accessForm, req.body ?? {}, 'body').disabled === 'true';
      try {
        const { workLeft } = await services.users.update(
          actorOf(req),
          id,
          { disabled },
          requestContext(req),
        );
        await redirect(req, res, `/admin/utilisateurs/${id}`, {
          type: 'success',
          message: disabled
            ? `Le compte est désactivé et ses sessions sont fermées.${workLeftText(workLeft)}`
            : 'Le compte est réactivé.',
        });
      } catch (err) {
        if (!hasCode(err, 'self_lockout', 'last_admin')) throw err;
        await redirect(req, res, `/admin/utilisateurs/${id}`, {
          type: 'error',
          message: hasCode(err, 'self_lockout')
            ? 'Vous ne pouvez pas désactiver votre propre compte.'
            : 'C’est le dernier compte administrateur actif de la structure : donnez d’abord ce rôle à quelqu’un d’autre.',
        });
      }
    },
  );

  r.post(
    '/admin/utilisateurs/:id/double-authentification',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const id = idOf(req);
      await services.twoFactor.reset(actorOf(req), id, requestContext(req));
      await redirect(req, res, `/admin/utilisateurs/${id}`, {
        type: 'success',
        message:
          'La double authentification est réinitialisée : la personne se connecte avec son mot de passe.',
      });
    },
  );

  // ---- Teams ---------------------------------------------------------------------------------
  async function renderTeams(req: Request, res: Response, form: FormState, status = 200) {
    const [teams, ctx] = await Promise.all([services.teams.list(actorOf(req)), ctxOf(req)]);
    sendPage(res, <TeamsPage ctx={ctx} teams={teams.items} form={form} />, status);
  }

  r.get('/admin/equipes', admin(), (req, res) => renderTeams(req, res, emptyForm()));

  r.post('/admin/equipes', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const values = formValues(req.body, ['name']);
    const parsed = parseWith(createTeamBody, { name: values.name ?? '' }, values, TEAM_MESSAGES);
    if (!parsed.ok) return renderTeams(req, res, parsed.form, 400);
    try {
      const team = await services.teams.create(actorOf(req), parsed.data, creationContext(req));
      return redirect(req, res, `/admin/equipes/${team.id}`, {
        type: 'success',
        message: `L’équipe ${team.name} est créée : choisissez ses cadres et ses membres.`,
      });
    } catch (err) {
      const resent = resentForm(err, values);
      if (resent) return renderTeams(req, res, resent, 422);
      if (!hasCode(err, 'conflict')) throw err;
      return renderTeams(
        req,
        res,
        { values, errors: { name: 'Une équipe porte déjà ce nom' } },
        409,
      );
    }
  });

  /** A team's page; a stale form (a 409) beside what is saved now. */
  async function renderTeam(req: Request, res: Response, form: FormState | null, status = 200) {
    const actor = actorOf(req);
    const [team, staff, ctx] = await Promise.all([
      services.teams.get(actor, idOf(req)),
      services.persons.listReferents(actor),
      ctxOf(req),
    ]);
    const saved = {
      name: team.name,
      memberIds: team.members.map((u) => u.id).join(','),
      managerIds: team.managers.map((u) => u.id).join(','),
    };
    const values = form ?? emptyForm(saved);

    const changed = form?.stale
      ? changedFields(form.values, saved, {
          lists: ['memberIds', 'managerIds'],
          show: (name, raw) =>
            name === 'name' ? raw : namesOf(raw, [...team.members, ...team.managers]),
        })
      : undefined;
    sendPage(
      res,
      <TeamPage ctx={ctx} team={team} staff={staff} form={values} changed={changed} />,
      status,
    );
  }

  r.get('/admin/equipes/:id', admin(), (req, res) => renderTeam(req, res, null));

  r.post('/admin/equipes/:id', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const id = idOf(req);
    const values = formValues(req.body, ['name', 'version']);
    const memberIds = formList(req.body, 'memberIds');
    const managerIds = formList(req.body, 'managerIds');
    // The version stays in what is shown back, as on a user's page.
    const formVals = {
      ...values,
      memberIds: memberIds.join(','),
      managerIds: managerIds.join(','),
    };
    // The API's schema: a name, and each list of active staff ids once (an id that is not one
    // is the field's 400, as a repeated one is read once).
    const parsed = parseWith(
      updateTeamBody,
      {
        name: values.name ?? '',
        memberIds,
        managerIds,
        ...versionField(req.body),
      },
      formVals,
      TEAM_MESSAGES,
    );
    if (!parsed.ok) return renderTeam(req, res, parsed.form, 400);
    try {
      await services.teams.update(actorOf(req), id, parsed.data, requestContext(req));
      return redirect(req, res, `/admin/equipes/${id}`, {
        type: 'success',
        message: 'L’équipe est enregistrée.',
      });
    } catch (err) {
      // Changed meanwhile (here or through a user's teams): the choices made stay.
      if (hasCode(err, 'stale_version')) return renderTeam(req, res, staleForm(formVals), 409);
      let errors: Record<string, string> | null = null;
      if (hasCode(err, 'conflict')) errors = { name: 'Une équipe porte déjà ce nom' };
      else if (
        hasCode(err, 'user_unavailable', 'not_a_manager', 'not_staff', 'validation_failed')
      ) {
        const field = fieldsOf(err)[0]?.split('.')[0] ?? 'memberIds';
        errors = { [field]: TEAM_MESSAGES[field] ?? TEAM_MESSAGES.memberIds };
      }
      if (!errors) throw err;
      return renderTeam(
        req,
        res,
        { values: formVals, errors },
        hasCode(err, 'conflict') ? 409 : 422,
      );
    }
  });

  // ---- Settings ------------------------------------------------------------------------------
  const settingsValues = (s: Awaited<ReturnType<Services['settings']['get']>>) => ({
    ...Object.fromEntries(SETTINGS_NUMBER_FIELDS.map((f) => [f, String(s[f])])),
    digestTime: s.digestTime,
    workingStart: s.workingHours.start,
    workingEnd: s.workingHours.end,
    alsaceMoselle: s.alsaceMoselle ? '1' : '',
    ...Object.fromEntries(SETTINGS_LEGAL_FIELDS.map((f) => [f, s[f]])),
    letterheadName: s.letterhead.name,
    letterheadAddress1: s.letterhead.addressLines[0] ?? '',
    letterheadAddress2: s.letterhead.addressLines[1] ?? '',
    letterheadAddress3: s.letterhead.addressLines[2] ?? '',
    letterheadPhone: s.letterhead.phone,
    letterheadEmail: s.letterhead.email,
    requireTwoFactor: s.requireTwoFactor ? '1' : '',
  });

  /**
   * The settings page; a stale form (someone saved meanwhile: a 409) names the fields whose
   * saved value now differs from the one typed.
   */
  async function renderSettings(
    req: Request,
    res: Response,
    form: FormState | null,
    status = 200,
    confirmRetention = false,
  ) {
    const [settings, ctx] = await Promise.all([services.settings.get(actorOf(req)), ctxOf(req)]);
    const saved: Record<string, string> = settingsValues(settings);
    sendPage(
      res,
      <SettingsPage
        ctx={ctx}
        settings={settings}
        form={form ?? emptyForm(saved)}
        conflict={
          form?.stale
            ? changedFields(form.values, saved, {
                numbers: [...SETTINGS_NUMBER_FIELDS],
                show: (name, raw) =>
                  name === 'requireTwoFactor' || name === 'alsaceMoselle'
                    ? raw
                      ? 'oui'
                      : 'non'
                    : raw,
              })
            : undefined
        }
        confirmRetention={confirmRetention}
      />,
      status,
    );
  }

  r.get('/admin/parametres', admin(), (req, res) => renderSettings(req, res, null));

  r.post('/admin/parametres', admin(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const fields = [
      ...SETTINGS_NUMBER_FIELDS,
      'digestTime',
      'workingStart',
      'workingEnd',
      'alsaceMoselle',
      ...SETTINGS_LEGAL_FIELDS,
      ...LETTERHEAD_FIELDS,
      'requireTwoFactor',
      'confirmRetention',
      'version',
    ];
    const values = formValues(req.body, fields);
    const number = (v: string | undefined) => (/^\s*\d{1,6}\s*$/.test(v ?? '') ? Number(v) : v);
    const body = {
      ...versionField(values),
      ...Object.fromEntries(SETTINGS_NUMBER_FIELDS.map((f) => [f, number(values[f])])),
      digestTime: (values.digestTime ?? '').trim(),
      workingHours: {
        start: (values.workingStart ?? '').trim(),
        end: (values.workingEnd ?? '').trim(),
      },
      alsaceMoselle: values.alsaceMoselle === '1',
      // A field the form did not send stays as it is (a page from before these fields).
      ...Object.fromEntries(
        SETTINGS_LEGAL_FIELDS.filter((f) => values[f] !== undefined).map((f) => [f, values[f]]),
      ),
      letterhead: {
        name: values.letterheadName ?? '',
        addressLines: [
          values.letterheadAddress1,
          values.letterheadAddress2,
          values.letterheadAddress3,
        ]
          .map((l) => (l ?? '').trim())
          .filter(Boolean),
        phone: values.letterheadPhone ?? '',
        email: (values.letterheadEmail ?? '').trim(),
      },
      requireTwoFactor: values.requireTwoFactor === '1',
      // Ticked once the page said what a shorter retention would anonymise.
      ...(values.confirmRetention === '1' ? { confirmRetention: true } : {}),
    };
    const rename = (p: string) => {
      if (p === 'workingHours.start') return 'workingStart';
      if (p.startsWith('workingHours')) return 'workingEnd';
      const line = /^letterhead\.addressLines\.(\d)/.exec(p);
      if (line) return `letterheadAddress${Number(line[1]) + 1}`;
      const head = /^letterhead\.(name|phone|email)/.exec(p);
      return head ? `letterhead${head[1][0].toUpperCase()}${head[1].slice(1)}` : p;
    };
    const parsed = patchSettingsBody.safeParse(body);
    if (!parsed.success)
      return renderSettings(
        req,
        res,
        { values: values, errors: zodErrors(parsed.error.issues, SETTINGS_MESSAGES, rename) },
        400,
      );
    try {
      const saved = await services.settings.update(actorOf(req), parsed.data, requestContext(req));
      return redirect(req, res, '/admin/parametres', {
        type: 'success',
        message:
          saved.replanned > 0
            ? `Les paramètres sont enregistrés ; ${saved.replanned} échéance${saved.replanned > 1 ? 's' : ''} en attente ${saved.replanned > 1 ? 'ont été replanifiées' : 'a été replanifiée'}.`
            : 'Les paramètres sont enregistrés.',
      });
    } catch (err) {
      // Saved by someone else meanwhile: the typed values stay, at the saved version.
      if (hasCode(err, 'stale_version')) return renderSettings(req, res, staleForm(values), 409);
      // A shorter retention would anonymise files: the count said, the box to confirm offered.
      if (hasCode(err, 'retention_confirmation_required'))
        return renderSettings(
          req,
          res,
          {
            values: values,
            errors: { retentionMonths: retentionMessage(err.details as RetentionConfirmation) },
          },
          422,
          true,
        );
      if (err instanceof ValidationError) {
        const errors = Object.fromEntries(
          fieldsOf(err).map((f) => {
            const field = rename(f).split('.')[0];
            return [field, SETTINGS_MESSAGES[field] ?? NUMBER_MESSAGE];
          }),
        );
        return renderSettings(req, res, { values: values, errors }, 400);
      }
      throw err;
    }
  });

  // ---- A partner's accounts ------------------------------------------------------------------
  async function renderPartnerAccounts(
    req: Request,
    res: Response,
    form: FormState,
    status = 200,
    page = 1,
    holder?: AddressHolder,
  ) {
    const actor = actorOf(req);
    const partner = await services.partners.getToEdit(actor, idOf(req));
    const [users, ctx] = await Promise.all([
      services.users.list(actor, { partnerId: partner.id, page, pageSize: ACCOUNTS_PAGE_SIZE }),
      ctxOf(req),
    ]);
    const href = (n: number) => partnerAccountsPageHref(partner.id, n);
    if (await redirectPastLastPage(req, res, users, href, ctx.flash)) return;
    sendPage(
      res,
      <PartnerAccountsPage ctx={ctx} partner={partner} users={users} form={form} holder={holder} />,
      status,
    );
  }

  r.get('/admin/partenaires/:id/comptes', admin(), async (req, res) => {
    const q = pageQuery.safeParse(req.query);
    if (!q.success) throw new NotFoundError('Page');
    await renderPartnerAccounts(req, res, emptyForm(), 200, q.data.page);
  });

  r.post(
    '/admin/partenaires/:id/comptes',
    admin(),
    csrf.csrfSynchronisedProtection,
    async (req, res) => {
      const actor = actorOf(req);
      const partner = await services.partners.getToEdit(actor, idOf(req));
      const values = formValues(req.body, ['name', 'email']);
      const parsed = inviteUserBody.safeParse({
        ...values,
        role: 'partner',
        partnerId: partner.id,
      });
      if (!parsed.success)
        return renderPartnerAccounts(
          req,
          res,
          { values, errors: zodErrors(parsed.error.issues, USER_MESSAGES) },
          400,
        );
      try {
        const user = await services.users.invite(actor, parsed.data, creationContext(req));
        return redirect(req, res, `/admin/partenaires/${partner.id}/comptes`, {
          type: 'success',
          message: `Invitation envoyée à ${user.email} : le lien est valable 48 heures.`,
        });
      } catch (err) {
        const resent = resentForm(err, values);
        if (resent) return renderPartnerAccounts(req, res, resent, 422);
        const form = inviteError(err, values);
        if (!form) throw err;
        return renderPartnerAccounts(req, res, form, 400, 1, addressHolder(err));
      }
    },
  );

  return r;
}
