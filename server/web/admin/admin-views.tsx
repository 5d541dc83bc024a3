import type { Role } from '../../auth/actor';
import type { SettingsView } from '../../features/settings/settings-schemas';
import type { Team } from '../../features/teams/team-repository';
import type { TwoFactorStatus } from '../../features/two-factor/two-factor-service';
import type { UserSummary } from '../../features/users/user-repository';
import type { Page } from '../../lib/validate';
import {
  Checkbox,
  CheckboxGroup,
  Csrf,
  OnceKey,
  TextArea,
  ErrorSummary,
  Pagination,
  StaleFormAlert,
  Section,
  SelectField,
  TextField,
  type FormState,
} from '../views/components';
import { formatDateTime } from '../format';
import { ACCESSIBILITY_LEVEL_TEXT, Layout, type PageContext } from '../views/layout';

export const ROLE_LABELS: Record<Role, string> = {
  worker: 'Travailleur·se social·e',
  manager: 'Cadre (responsable d’équipe)',
  partner: 'Partenaire',
  observer: 'Observateur·rice',
  admin: 'Administrateur·rice',
};

/** The roles an admin invites from the users page; partner accounts come from the partner's page. */
export const INVITE_ROLES: Role[] = ['worker', 'manager', 'observer', 'admin'];

export const USER_LABELS = {
  email: 'Adresse électronique',
  name: 'Nom et prénom',
  role: 'Rôle',
  teamIds: 'Équipes',
};

/**
 * The labels of a user form's fields as the form shows them: without the teams when it offers
 * none (no team in the structure, a partner's account), so that a refusal naming the teams is
 * listed above the form rather than linked to a field the page does not have.
 */
function userLabels(withTeams: boolean): Record<string, string> {
  const { teamIds: _teams, ...withoutTeams } = USER_LABELS;
  return withTeams ? USER_LABELS : withoutTeams;
}

export const TEAM_LABELS = { name: 'Nom de l’équipe', memberIds: 'Membres', managerIds: 'Cadres' };

export const SETTINGS_LABELS: Record<string, string> = {
  followUpReminderDays: 'Relance d’un suivi en retard (jours ouvrés)',
  followUpEscalationDays: 'Alerte aux cadres d’un suivi en retard (jours ouvrés)',
  referralResponseDays: 'Délai de réponse d’un partenaire, par défaut (jours ouvrés)',
  referralExpiryDays: 'Expiration d’une orientation sans réponse (jours ouvrés)',
  loopClosingDays: 'Question au partenaire sur l’aide apportée (jours ouvrés après acceptation)',
  noContactDays: 'Relancer une personne sans contact depuis (jours)',
  noContactCloseDays: 'Proposer de clore un dossier sans contact depuis (jours)',
  reportTriageDays: 'Alerte d’un signalement non trié (jours ouvrés)',
  digestTime: 'Heure du récapitulatif quotidien',
  workingStart: 'Début de la journée de travail',
  workingEnd: 'Fin de la journée de travail',
  alsaceMoselle: 'Calendrier d’Alsace-Moselle : Vendredi saint et 26 décembre sont fériés',
  smallCountThreshold: 'Seuil de masquage des petits effectifs (observation)',
  retentionMonths: 'Anonymisation après inactivité (mois)',
  confirmRetention: 'Je confirme l’anonymisation de ces dossiers, sans retour possible',
  letterheadName: 'Nom sur l’en-tête',
  letterheadAddress1: 'Adresse, ligne 1',
  letterheadAddress2: 'Adresse, ligne 2',
  letterheadAddress3: 'Adresse, ligne 3',
  letterheadPhone: 'Téléphone',
  letterheadEmail: 'Courriel',
  publisherAddress: 'Adresse postale de la structure (éditeur)',
  publicationDirector: 'Directeur ou directrice de la publication',
  hostingProvider: 'Hébergeur (nom, adresse, téléphone)',
  accessibilityLevel: 'Conformité au RGAA',
  accessibilityAuditDate: 'Date de l’audit d’accessibilité',
  accessibilityIssues: 'Non-conformités relevées par votre audit',
  accessibilityContact: 'Contact pour signaler un défaut d’accessibilité',
  dpoContact: 'Contact du délégué à la protection des données (DPO)',
  requireTwoFactor: 'Exiger la double authentification des cadres et des administrateurs',
};

/** The settings that fill the legal pages, as the form sends them (texts, possibly empty). */
export const SETTINGS_LEGAL_FIELDS = [
  'publisherAddress',
  'publicationDirector',
  'hostingProvider',
  'accessibilityLevel',
  'accessibilityAuditDate',
  'accessibilityIssues',
  'accessibilityContact',
  'dpoContact',
] as const;

/** The letterhead's form fields, each optional. */
export const LETTERHEAD_FIELDS = [
  'letterheadName',
  'letterheadAddress1',
  'letterheadAddress2',
  'letterheadAddress3',
  'letterheadPhone',
  'letterheadEmail',
] as const;

/** The levels as the settings form offers them. */
const ACCESSIBILITY_LEVEL_LABELS = Object.fromEntries(
  Object.entries(ACCESSIBILITY_LEVEL_TEXT).map(([k, v]) => [k, v[0].toUpperCase() + v.slice(1)]),
);

export const SETTINGS_NUMBER_FIELDS = [
  'followUpReminderDays',
  'followUpEscalationDays',
  'referralResponseDays',
  'referralExpiryDays',
  'loopClosingDays',
  'noContactDays',
  'noContactCloseDays',
  'reportTriageDays',
  'smallCountThreshold',
  'retentionMonths',
] as const;

/** The administration's home: the areas an admin looks after. */
export function AdminHomePage({
  ctx,
  counts,
}: {
  ctx: PageContext;
  counts: { users: number; teams: number; districts: number };
}) {
  const areas: [string, string, string][] = [
    [
      '/admin/utilisateurs',
      'Utilisateurs',
      `${counts.users} compte${counts.users > 1 ? 's' : ''} : inviter, changer un rôle ou des équipes, désactiver, envoyer un nouveau lien.`,
    ],
    [
      '/admin/equipes',
      'Équipes',
      `${counts.teams} équipe${counts.teams > 1 ? 's' : ''} : leurs membres et les cadres qui les encadrent.`,
    ],
    [
      '/admin/parametres',
      'Paramètres',
      'Délais des relances et alertes, heure du récapitulatif, horaires de travail, pages légales.',
    ],
    [
      '/admin/partenaires',
      'Partenaires',
      'L’annuaire des partenaires, leurs services et leurs comptes.',
    ],
    ['/admin/droits', 'Droits et aides', 'Le catalogue des droits et aides suivis.'],
    [
      '/admin/quartiers',
      'Quartiers',
      `${counts.districts} quartier${counts.districts > 1 ? 's' : ''} : les ajouter, les renommer, leur code et leur statut QPV, les archiver.`,
    ],
    [
      '/docs/api',
      "Référence de l'API",
      'Pour les systèmes des partenaires : chaque point d’accès de l’API JSON et ses réponses.',
    ],
  ];
  return (
    <Layout title="Administration" ctx={ctx} nav="admin">
      <h1>Administration</h1>
      <p>Vous administrez la structure : vous n’avez pas accès aux dossiers des personnes.</p>
      <div class="fr-grid-row fr-grid-row--gutters">
        {areas.map(([href, title, desc]) => (
          <div class="fr-col-12 fr-col-md-6">
            <div class="fr-card fr-enlarge-link">
              <div class="fr-card__body">
                <div class="fr-card__content">
                  <h2 class="fr-card__title fr-h5">
                    <a href={href}>{title}</a>
                  </h2>
                  <p class="fr-card__desc">{desc}</p>
                </div>
              </div>
            </div>
          </div>
        ))}
      </div>
    </Layout>
  );
}

function teamsText(u: UserSummary) {
  if (u.teams.length === 0) return '—';
  return u.teams.map((t) => (t.isLead ? `${t.name} (encadre)` : t.name)).join(', ');
}

function statusText(u: UserSummary) {
  if (u.disabled) return 'Désactivé';
  return u.passwordSet ? 'Actif' : 'Invitation en attente';
}

/** The users table, shared by the users page and a partner's accounts. */
export function UsersTable({ users, caption }: { users: UserSummary[]; caption: string }) {
  return (
    <div class="fr-table fr-table--no-caption">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Nom</th>
            <th scope="col">Adresse électronique</th>
            <th scope="col">Rôle</th>
            <th scope="col">Équipes</th>
            <th scope="col">État</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr>
              <td>
                <a href={`/admin/utilisateurs/${u.id}`}>{u.name}</a>
              </td>
              <td>{u.email}</td>
              <td>{ROLE_LABELS[u.role]}</td>
              <td>{teamsText(u)}</td>
              <td>{statusText(u)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const teamOptions = (teams: Team[]) => Object.fromEntries(teams.map((t) => [t.id, t.name]));

/** The pages of the structure's accounts, opening on the list (the invitation form is above). */
export const usersPageHref = (page: number) => `/admin/utilisateurs?page=${page}#comptes`;
/** The pages of a partner's accounts. */
export const partnerAccountsPageHref = (partnerId: string, page: number) =>
  `/admin/partenaires/${partnerId}/comptes?page=${page}`;

/** An invitation refused because a user of the structure holds the address: which one. */
export interface AddressHolder {
  userId: string;
  disabled: boolean;
}

/** Where to go instead of inviting: the account that holds the address, to enable it again. */
function HeldAddress({ holder }: { holder?: AddressHolder }) {
  if (!holder) return null;
  const href = `/admin/utilisateurs/${holder.userId}`;
  return (
    <div class="fr-alert fr-alert--info fr-alert--sm fr-mb-3w">
      <p>
        {holder.disabled ? (
          <>
            Cette adresse est celle d’un compte désactivé de votre structure :{' '}
            <a href={href}>réactivez-le depuis sa page</a> plutôt que d’en inviter un nouveau.
          </>
        ) : (
          <>
            Cette adresse est celle d’un compte de votre structure : <a href={href}>voir sa page</a>
            .
          </>
        )}
      </p>
    </div>
  );
}

/** The users of the structure and the invitation form. */
export function UsersPage({
  ctx,
  users,
  teams,
  form,
  holder,
}: {
  ctx: PageContext;
  users: Page<UserSummary>;
  teams: Team[];
  form: FormState;
  /** The invitation was refused: a user of the structure holds the address. */
  holder?: AddressHolder;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  return (
    <Layout title="Utilisateurs" hasErrors={hasErrors} ctx={ctx} nav="admin">
      <h1>Utilisateurs</h1>
      <Section title="Inviter un utilisateur" id="inviter">
        <p>
          La personne reçoit un courriel avec un lien pour choisir son mot de passe, valable 48
          heures. Les comptes des partenaires se créent depuis la page de chaque partenaire.
        </p>
        <ErrorSummary form={form} labels={userLabels(teams.length > 0)} />
        <HeldAddress holder={holder} />
        <form method="post" action="/admin/utilisateurs" novalidate>
          <Csrf token={ctx.csrfToken} />
          <OnceKey />
          <TextField form={form} name="name" label={USER_LABELS.name} autocomplete="off" required />
          <TextField
            form={form}
            name="email"
            label={USER_LABELS.email}
            type="email"
            autocomplete="off"
            required
          />
          <SelectField
            form={form}
            name="role"
            label={USER_LABELS.role}
            options={Object.fromEntries(INVITE_ROLES.map((r) => [r, ROLE_LABELS[r]]))}
            required
          />
          {teams.length ? (
            <CheckboxGroup
              form={form}
              name="teamIds"
              label={USER_LABELS.teamIds}
              hint="Pour les travailleur·ses sociaux·ales et les cadres"
              options={teamOptions(teams)}
              inline
            />
          ) : null}
          <button type="submit" class="fr-btn">
            Envoyer l’invitation
          </button>
        </form>
      </Section>
      <Section title={`Comptes de la structure (${users.total})`} id="comptes">
        <UsersTable users={users.items} caption="Comptes de la structure" />
        <Pagination
          page={users.page}
          total={users.total}
          pageSize={users.pageSize}
          href={usersPageHref}
          label="Pages des comptes"
        />
      </Section>
    </Layout>
  );
}

/** One user: name, role and teams; disable or enable; a new set-password link. */
export function UserPage({
  ctx,
  user,
  teams,
  form,
  partnerName,
  twoFactor,
  changed,
}: {
  ctx: PageContext;
  /** The user as saved now (the form's version is theirs, unless a refused form keeps its own). */
  user: UserSummary;
  teams: Team[];
  form: FormState;
  partnerName: string | null;
  twoFactor: TwoFactorStatus;
  /** Sent back with a 409: the fields saved meanwhile with another value, that value in words. */
  changed?: Record<string, string>;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const self = ctx.actor?.id === user.id;
  const withTeams = teams.length > 0 && user.role !== 'partner';
  const roles =
    user.role === 'partner'
      ? { partner: ROLE_LABELS.partner }
      : Object.fromEntries(INVITE_ROLES.map((r) => [r, ROLE_LABELS[r]]));
  return (
    <Layout title={`${user.name}`} hasErrors={hasErrors} ctx={ctx} nav="admin">
      <p>
        <a href="/admin/utilisateurs" class="fr-link fr-icon-arrow-left-line fr-link--icon-left">
          Tous les utilisateurs
        </a>
      </p>
      <h1>{user.name}</h1>
      <p>
        {user.email} — {statusText(user)}
        {partnerName ? ` — compte du partenaire ${partnerName}` : ''}
      </p>
      <Section title="Rôle et équipes" id="role">
        {changed ? (
          <StaleFormAlert
            title="Ce compte a été modifié pendant que vous le changiez"
            changed={changed}
            labels={USER_LABELS}
          />
        ) : null}
        <ErrorSummary form={form} labels={userLabels(withTeams)} />
        <form method="post" action={`/admin/utilisateurs/${user.id}`} novalidate>
          <Csrf token={ctx.csrfToken} />
          <input type="hidden" name="version" value={form.values.version ?? String(user.version)} />
          <TextField form={form} name="name" label={USER_LABELS.name} autocomplete="off" required />
          <SelectField form={form} name="role" label={USER_LABELS.role} options={roles} required />
          {withTeams ? (
            <CheckboxGroup
              form={form}
              name="teamIds"
              label={USER_LABELS.teamIds}
              hint="Les équipes qu’une ou un cadre encadre se choisissent sur la page de l’équipe"
              options={teamOptions(teams)}
              inline
            />
          ) : null}
          <button type="submit" class="fr-btn">
            Enregistrer
          </button>
        </form>
      </Section>
      <Section title="Accès" id="acces">
        {user.disabled ? null : (
          <form method="post" action={`/admin/utilisateurs/${user.id}/lien`} class="fr-mb-2w">
            <Csrf token={ctx.csrfToken} />
            <p>Un nouveau lien pour choisir un mot de passe remplace les liens envoyés avant.</p>
            <button type="submit" class="fr-btn fr-btn--secondary">
              Envoyer un nouveau lien
            </button>
          </form>
        )}
        {self ? (
          <p>Vous ne pouvez pas désactiver votre propre compte.</p>
        ) : (
          <form method="post" action={`/admin/utilisateurs/${user.id}/acces`}>
            <Csrf token={ctx.csrfToken} />
            <input type="hidden" name="disabled" value={user.disabled ? 'false' : 'true'} />
            {user.disabled ? null : (
              <p>La désactivation ferme aussitôt toutes ses sessions ouvertes.</p>
            )}
            <button
              type="submit"
              class={`fr-btn ${user.disabled ? 'fr-btn--secondary' : 'fr-btn--tertiary'}`}
            >
              {user.disabled ? 'Réactiver le compte' : 'Désactiver le compte'}
            </button>
          </form>
        )}
      </Section>
      <Section title="Double authentification" id="double-authentification">
        <p>
          {twoFactor.enabled
            ? `Activée${twoFactor.enabledAt ? ` depuis le ${formatDateTime(twoFactor.enabledAt)}` : ''}.`
            : twoFactor.required
              ? 'Pas encore activée : elle le sera à sa prochaine connexion, la structure l’exige.'
              : 'Non activée.'}
        </p>
        {twoFactor.enabled ? (
          <form method="post" action={`/admin/utilisateurs/${user.id}/double-authentification`}>
            <Csrf token={ctx.csrfToken} />
            <p>
              Si cette personne a perdu son téléphone et ses codes de secours : après la
              réinitialisation, elle se connecte avec son seul mot de passe
              {twoFactor.required ? ' puis active de nouveau la double authentification' : ''}.
              L’opération est tracée.
            </p>
            <button type="submit" class="fr-btn fr-btn--tertiary">
              Réinitialiser la double authentification
            </button>
          </form>
        ) : null}
      </Section>
    </Layout>
  );
}

/** The teams, and a form to create one. */
export function TeamsPage({
  ctx,
  teams,
  form,
}: {
  ctx: PageContext;
  teams: Team[];
  form: FormState;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const names = (list: { name: string }[]) =>
    list.length ? list.map((u) => u.name).join(', ') : '—';
  return (
    <Layout title="Équipes" hasErrors={hasErrors} ctx={ctx} nav="admin">
      <h1>Équipes</h1>
      {teams.length ? (
        <div class="fr-table fr-table--no-caption">
          <table>
            <caption>Équipes de la structure</caption>
            <thead>
              <tr>
                <th scope="col">Équipe</th>
                <th scope="col">Cadres</th>
                <th scope="col">Membres</th>
              </tr>
            </thead>
            <tbody>
              {teams.map((t) => (
                <tr>
                  <td>
                    <a href={`/admin/equipes/${t.id}`}>{t.name}</a>
                  </td>
                  <td>{names(t.managers)}</td>
                  <td>{names(t.members)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>Aucune équipe pour l’instant.</p>
      )}
      <Section title="Créer une équipe" id="creer">
        <ErrorSummary form={form} labels={TEAM_LABELS} />
        <form method="post" action="/admin/equipes" novalidate>
          <Csrf token={ctx.csrfToken} />
          <OnceKey />
          <TextField
            form={form}
            name="name"
            label={TEAM_LABELS.name}
            hint="Par exemple : Accueil, Équipe mobile, un quartier"
            required
          />
          <button type="submit" class="fr-btn">
            Créer l’équipe
          </button>
        </form>
      </Section>
    </Layout>
  );
}

/** One team: its name, its members and the managers who lead it. */
export function TeamPage({
  ctx,
  team,
  staff,
  form,
  changed,
}: {
  ctx: PageContext;
  /** The team as saved now (the form's version is its, unless a refused form keeps its own). */
  team: Team;
  staff: { id: string; name: string; role: string }[];
  form: FormState;
  /** Sent back with a 409: the fields saved meanwhile with another value, that value in words. */
  changed?: Record<string, string>;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const options = (list: typeof staff) => Object.fromEntries(list.map((u) => [u.id, u.name]));
  return (
    <Layout title={`Équipe ${team.name}`} hasErrors={hasErrors} ctx={ctx} nav="admin">
      <p>
        <a href="/admin/equipes" class="fr-link fr-icon-arrow-left-line fr-link--icon-left">
          Toutes les équipes
        </a>
      </p>
      <h1>Équipe {team.name}</h1>
      {changed ? (
        <StaleFormAlert
          title="L’équipe a été modifiée pendant que vous la changiez"
          changed={changed}
          labels={TEAM_LABELS}
        />
      ) : null}
      <ErrorSummary form={form} labels={TEAM_LABELS} />
      <form method="post" action={`/admin/equipes/${team.id}`} novalidate>
        <Csrf token={ctx.csrfToken} />
        <input type="hidden" name="version" value={form.values.version ?? String(team.version)} />
        <TextField form={form} name="name" label={TEAM_LABELS.name} required />
        <CheckboxGroup
          form={form}
          name="managerIds"
          label={TEAM_LABELS.managerIds}
          hint="Les cadres qui encadrent l’équipe : son tableau et ses alertes leur reviennent"
          options={options(staff.filter((u) => u.role === 'manager'))}
        />
        <CheckboxGroup
          form={form}
          name="memberIds"
          label={TEAM_LABELS.memberIds}
          options={options(staff)}
        />
        <button type="submit" class="fr-btn">
          Enregistrer
        </button>
      </form>
    </Layout>
  );
}

/** The structure's settings. */
export function SettingsPage({
  ctx,
  settings,
  form,
  conflict,
  confirmRetention = false,
}: {
  ctx: PageContext;
  settings: SettingsView;
  form: FormState;
  /** Sent back after a 409: the fields saved meanwhile with another value, and that value. */
  conflict?: Record<string, string>;
  /** A shorter retention would anonymise files: the box confirming it is offered. */
  confirmRetention?: boolean;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const field = (name: string, type: 'number' | 'text' = 'number', hint?: string) => (
    <TextField
      form={form}
      name={name}
      label={SETTINGS_LABELS[name]}
      type={type}
      inputmode={type === 'number' ? 'numeric' : 'text'}
      hint={hint}
      required
    />
  );
  const legal = (name: string, hint?: string) => (
    <TextField form={form} name={name} label={SETTINGS_LABELS[name]} hint={hint} />
  );
  return (
    <Layout title="Paramètres" hasErrors={hasErrors} ctx={ctx} nav="admin">
      <h1>Paramètres de la structure</h1>
      <p>
        Un changement de délai s’applique aussi aux relances, alertes et expirations déjà prévues.
        {settings.updatedAt
          ? ` Dernière modification : ${new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' }).format(settings.updatedAt)}.`
          : ''}
      </p>
      {conflict ? (
        <StaleFormAlert
          title="Les paramètres ont été modifiés pendant que vous les changiez"
          changed={conflict}
          labels={SETTINGS_LABELS}
        />
      ) : null}
      <ErrorSummary form={form} labels={SETTINGS_LABELS} />
      <form method="post" action="/admin/parametres" novalidate>
        <Csrf token={ctx.csrfToken} />
        <input
          type="hidden"
          name="version"
          value={form.values.version ?? String(settings.version)}
        />
        <fieldset class="fr-fieldset" aria-labelledby="suivis-legend">
          <legend class="fr-fieldset__legend" id="suivis-legend">
            Suivis et orientations
          </legend>
          <div class="fr-fieldset__element">{field('followUpReminderDays')}</div>
          <div class="fr-fieldset__element">{field('followUpEscalationDays')}</div>
          <div class="fr-fieldset__element">
            {field('referralResponseDays', 'number', 'Un service peut fixer le sien')}
          </div>
          <div class="fr-fieldset__element">{field('referralExpiryDays')}</div>
          <div class="fr-fieldset__element">{field('loopClosingDays')}</div>
          <div class="fr-fieldset__element">{field('reportTriageDays')}</div>
        </fieldset>
        <fieldset class="fr-fieldset" aria-labelledby="contact-legend">
          <legend class="fr-fieldset__legend" id="contact-legend">
            Personnes sans contact
          </legend>
          <div class="fr-fieldset__element">{field('noContactDays')}</div>
          <div class="fr-fieldset__element">{field('noContactCloseDays')}</div>
        </fieldset>
        <fieldset class="fr-fieldset" aria-labelledby="horaires-legend">
          <legend class="fr-fieldset__legend" id="horaires-legend">
            Horaires
          </legend>
          <div class="fr-fieldset__element">
            {field('digestTime', 'text', 'Format HH:MM, pendant la journée de travail')}
          </div>
          <div class="fr-fieldset__element">{field('workingStart', 'text', 'Format HH:MM')}</div>
          <div class="fr-fieldset__element">{field('workingEnd', 'text', 'Format HH:MM')}</div>
          <div class="fr-fieldset__element">
            <Checkbox
              form={form}
              name="alsaceMoselle"
              label={SETTINGS_LABELS.alsaceMoselle}
              hint="Pour les structures du Bas-Rhin, du Haut-Rhin et de la Moselle : ces jours ne comptent pas dans les délais, et rien n’est envoyé ces jours-là."
            />
          </div>
        </fieldset>
        <fieldset class="fr-fieldset" aria-labelledby="donnees-legend">
          <legend class="fr-fieldset__legend" id="donnees-legend">
            Observation et conservation
          </legend>
          <div class="fr-fieldset__element">{field('smallCountThreshold')}</div>
          <div class="fr-fieldset__element">{field('retentionMonths')}</div>
          {/* Offered once a shorter period came back refused: it anonymises files for good. */}
          {confirmRetention || form.values.confirmRetention ? (
            <div class="fr-fieldset__element">
              <Checkbox
                form={form}
                name="confirmRetention"
                label={SETTINGS_LABELS.confirmRetention}
              />
            </div>
          ) : null}
        </fieldset>
        <fieldset class="fr-fieldset" aria-labelledby="legal-legend">
          <legend class="fr-fieldset__legend" id="legal-legend">
            Pages légales
            <span class="fr-hint-text">
              Ce que disent les pages <a href="/accessibilite">Accessibilité</a>,{' '}
              <a href="/mentions-legales">Mentions légales</a> et{' '}
              <a href="/donnees-personnelles">Données personnelles</a> pour votre structure ; laissé
              vide, un champ y est signalé comme non renseigné.
            </span>
          </legend>
          <div class="fr-fieldset__element">
            <TextArea
              form={form}
              name="publisherAddress"
              label={SETTINGS_LABELS.publisherAddress}
            />
          </div>
          <div class="fr-fieldset__element">{legal('publicationDirector')}</div>
          <div class="fr-fieldset__element">
            <TextArea form={form} name="hostingProvider" label={SETTINGS_LABELS.hostingProvider} />
          </div>
          <div class="fr-fieldset__element">
            <SelectField
              form={form}
              name="accessibilityLevel"
              label={SETTINGS_LABELS.accessibilityLevel}
              hint="Sans audit, la structure se déclare non conforme"
              options={ACCESSIBILITY_LEVEL_LABELS}
            />
          </div>
          <div class="fr-fieldset__element">
            {legal('accessibilityAuditDate', 'Format AAAA-MM-JJ ; vide sans audit')}
          </div>
          <div class="fr-fieldset__element">
            <TextArea
              form={form}
              name="accessibilityIssues"
              label={SETTINGS_LABELS.accessibilityIssues}
              hint="Une par ligne ; celles du logiciel sont déjà listées"
              rows={4}
            />
          </div>
          <div class="fr-fieldset__element">
            {legal('accessibilityContact', 'Une adresse électronique ou une page web')}
          </div>
          <div class="fr-fieldset__element">{legal('dpoContact')}</div>
        </fieldset>
        <fieldset class="fr-fieldset" aria-labelledby="courrier-legend">
          <legend class="fr-fieldset__legend" id="courrier-legend">
            En-tête des courriers
            <span class="fr-hint-text">
              Imprimé en haut des courriers envoyés aux personnes ; sans nom, celui de la structure.
            </span>
          </legend>
          {LETTERHEAD_FIELDS.map((name) => (
            <div class="fr-fieldset__element">
              <TextField
                form={form}
                name={name}
                label={SETTINGS_LABELS[name]}
                type={name === 'letterheadEmail' ? 'email' : 'text'}
              />
            </div>
          ))}
        </fieldset>
        <fieldset class="fr-fieldset" aria-labelledby="securite-legend">
          <legend class="fr-fieldset__legend" id="securite-legend">
            Sécurité des comptes
          </legend>
          <div class="fr-fieldset__element">
            <Checkbox
              form={form}
              name="requireTwoFactor"
              label={SETTINGS_LABELS.requireTwoFactor}
              hint="Après leur mot de passe, ceux qui ne l’ont pas encore activée sont conduits à l’activer avant de continuer."
            />
          </div>
        </fieldset>
        <button type="submit" class="fr-btn">
          Enregistrer les paramètres
        </button>
      </form>
    </Layout>
  );
}

/** A partner's accounts, and the form that invites one more. */
export function PartnerAccountsPage({
  ctx,
  partner,
  users,
  form,
  holder,
}: {
  ctx: PageContext;
  partner: { id: string; name: string };
  users: Page<UserSummary>;
  form: FormState;
  /** The invitation was refused: a user of the structure holds the address. */
  holder?: AddressHolder;
}) {
  const hasErrors = Object.keys(form.errors).length > 0;
  const title = `Comptes de ${partner.name}`;
  return (
    <Layout title={`${title}`} hasErrors={hasErrors} ctx={ctx} nav="partners">
      <p>
        <a
          href={`/admin/partenaires/${partner.id}`}
          class="fr-link fr-icon-arrow-left-line fr-link--icon-left"
        >
          Retour au partenaire
        </a>
      </p>
      <h1>{title}</h1>
      {users.total ? (
        <>
          <UsersTable users={users.items} caption={title} />
          <Pagination
            page={users.page}
            total={users.total}
            pageSize={users.pageSize}
            href={(n) => partnerAccountsPageHref(partner.id, n)}
            label="Pages des comptes du partenaire"
          />
        </>
      ) : (
        <p>Ce partenaire n’a pas encore de compte : il répond par les liens reçus par courriel.</p>
      )}
      <Section title="Inviter une personne du partenaire" id="inviter">
        <ErrorSummary form={form} labels={USER_LABELS} />
        <HeldAddress holder={holder} />
        <form method="post" action={`/admin/partenaires/${partner.id}/comptes`} novalidate>
          <Csrf token={ctx.csrfToken} />
          <OnceKey />
          <TextField form={form} name="name" label={USER_LABELS.name} autocomplete="off" required />
          <TextField
            form={form}
            name="email"
            label={USER_LABELS.email}
            type="email"
            autocomplete="off"
            required
          />
          <button type="submit" class="fr-btn">
            Envoyer l’invitation
          </button>
        </form>
      </Section>
    </Layout>
  );
}
