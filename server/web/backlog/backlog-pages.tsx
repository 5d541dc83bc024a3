import type { BacklogItem } from '../../features/backlog/backlog-repository';
import {
  FOLLOW_UP_BUCKETS,
  NO_KEY,
  type BacklogBucket,
  type BacklogGrouping,
} from '../../features/backlog/backlog-schemas';
import type { ManagerBacklog } from '../../features/backlog/backlog-service';
import type { Page } from '../../lib/validate';
import { formatDate, formatDateTime, plural } from '../format';
import { CheckboxGroup, Csrf, emptyForm, Pagination } from '../views/components';
import { Layout, type PageContext } from '../views/layout';

const GROUPING_LABELS: Record<BacklogGrouping, string> = {
  assignee: 'Personne en charge',
  team: 'Équipe',
  district: 'Quartier',
  partner: 'Partenaire',
};

const BUCKET_LABELS: Record<BacklogBucket, string> = {
  d0_7: 'En retard de 0 à 7 jours',
  d8_30: 'En retard de 8 à 30 jours',
  d31_plus: 'En retard de 31 jours et plus',
  week: 'À faire cette semaine',
  late_referrals: 'Orientations sans réponse dans le délai',
  no_contact_30: 'Sans contact depuis 30 à 89 jours',
  no_contact_90: 'Sans contact depuis 90 jours et plus',
  reports: 'Signalements à trier',
};

/** Short column heads; the full label is read with each number. */
const BUCKET_HEADS: Record<BacklogBucket, string> = {
  d0_7: 'Retard 0–7 j',
  d8_30: 'Retard 8–30 j',
  d31_plus: 'Retard 31 j et +',
  week: 'Cette semaine',
  late_referrals: 'Orientations sans réponse',
  no_contact_30: 'Sans contact 30 j',
  no_contact_90: 'Sans contact 90 j',
  reports: 'Signalements à trier',
};

const NO_GROUP: Record<BacklogGrouping, string> = {
  assignee: 'Sans personne en charge',
  team: 'Sans équipe',
  district: 'Sans quartier',
  partner: 'Sans partenaire',
};

/** How a user no longer active staff is marked, as the person edit page marks a référent. */
const INACTIVE = ' (inactif)';

/** A group's name; a user no longer active staff (a leaver) is marked, as on the person page. */
export const groupLabel = (
  groupBy: BacklogGrouping,
  key: string,
  label: string | null,
  active: boolean | null = null,
) =>
  key === NO_KEY ? NO_GROUP[groupBy] : `${label ?? 'Inconnu'}${active === false ? INACTIVE : ''}`;

interface ItemsAddress {
  groupBy: BacklogGrouping;
  key: string;
  bucket: BacklogBucket;
  /** The teams filtered (the parameter repeated); none for the whole structure. */
  teamIds: string[];
}

export function itemsHref(a: ItemsAddress, page = 1): string {
  const q = new URLSearchParams({ groupBy: a.groupBy, key: a.key, bucket: a.bucket });
  for (const id of a.teamIds) q.append('teamId', id);
  if (page > 1) q.set('page', String(page));
  return `/equipe/elements?${q.toString()}`;
}

/**
 * The backlog an items page was opened from: its grouping and team filter. The whole structure is
 * said (an empty teamId): the home without any shows the manager's own teams.
 */
function backlogHref(a: Pick<ItemsAddress, 'groupBy' | 'teamIds'>): string {
  const q = new URLSearchParams({ groupBy: a.groupBy });
  if (a.teamIds.length) for (const id of a.teamIds) q.append('teamId', id);
  else q.set('teamId', '');
  return `/?${q.toString()}`;
}

/** Whose work the backlog shows: "de l’équipe X", "de vos équipes", "de la structure". */
function scopeWords(
  teamIds: string[],
  ledTeamIds: string[],
  teams: { id: string; name: string }[],
): string {
  if (teamIds.length === 0) return 'de la structure';
  const names = teamIds.map((id) => teams.find((t) => t.id === id)?.name ?? 'inconnue');
  if (teamIds.length === 1) return `de l’équipe ${names[0]}`;
  const led = new Set(ledTeamIds);
  if (teamIds.length === led.size && teamIds.every((id) => led.has(id))) return 'de vos équipes';
  return `des équipes ${new Intl.ListFormat('fr').format(names)}`;
}

type Staff = { id: string; name: string }[];

/**
 * The people to choose from; with `active` (the active staff), anyone else in the list (a leaver
 * still holding work) is marked as inactive.
 */
function StaffOptions({
  staff,
  placeholder,
  active,
}: {
  staff: Staff;
  placeholder: string;
  active?: Staff;
}) {
  const isActive = (id: string) => !active || active.some((u) => u.id === id);
  return (
    <>
      <option value="">{placeholder}</option>
      {staff.map((u) => (
        <option value={u.id}>{`${u.name}${isActive(u.id) ? '' : INACTIVE}`}</option>
      ))}
    </>
  );
}

/** The manager's home: the team's open work, every number a link to the items behind it. */
export function BacklogPage({
  ctx,
  backlog,
  staff,
  leavers,
  teams = [],
}: {
  ctx: PageContext;
  backlog: ManagerBacklog;
  /** The structure's teams, to narrow the backlog to some. */
  teams?: { id: string; name: string }[];
  /** Active workers and managers: who work may be handed to. */
  staff: Staff;
  /**
   * Whose work may be moved: the active staff, and whoever holds open follow-ups or is référent
   * of active files (leavers included).
   */
  leavers: Staff;
}) {
  const { groupBy, groups, totals, teamIds } = backlog;
  const buckets = Object.keys(BUCKET_LABELS) as BacklogBucket[];
  // By team and by partner the rows do not add up to the total (backlog-service): say why.
  const whole = scopeWords(teamIds, backlog.ledTeamIds, teams);
  const totalHead =
    groupBy === 'team'
      ? 'Total, sans double compte'
      : groupBy === 'partner'
        ? `Total ${whole}`
        : 'Total';
  const totalNote =
    groupBy === 'team'
      ? 'Un élément compte dans chaque équipe de la personne qui en a la charge ; le total le compte une fois.'
      : groupBy === 'partner'
        ? `Par partenaire, seul le travail des personnes orientées vers un partenaire figure ; le total est celui ${whole}.`
        : null;
  const cell = (key: string, label: string, bucket: BacklogBucket, n: number) => (
    <td class="av-num">
      {n === 0 ? (
        <span>
          0<span class="fr-sr-only"> : {BUCKET_LABELS[bucket].toLowerCase()}</span>
        </span>
      ) : (
        <a href={itemsHref({ groupBy, key, bucket, teamIds })}>
          {n}
          <span class="fr-sr-only">
            {' '}
            : {BUCKET_LABELS[bucket].toLowerCase()}, {label}
          </span>
        </a>
      )}
    </td>
  );
  return (
    <Layout title="Tableau de l’équipe" ctx={ctx} nav="backlog">
      <h1>Tableau de l’équipe</h1>
      <p class="fr-text--lead">
        Le travail ouvert {whole} au {formatDateTime(backlog.at)} :{' '}
        {plural(
          totals.d0_7 + totals.d8_30 + totals.d31_plus,
          'suivi en retard',
          'suivis en retard',
        )}
        , {plural(totals.week, 'à faire', 'à faire')} cette semaine.
      </p>
      <form method="get" action="/" class="av-inline-form fr-mb-3w">
        <div class="fr-select-group">
          <label class="fr-label" for="groupBy">
            Regrouper par
          </label>
          <select class="fr-select" id="groupBy" name="groupBy">
            {(Object.keys(GROUPING_LABELS) as BacklogGrouping[]).map((g) => (
              <option value={g} selected={g === groupBy}>
                {GROUPING_LABELS[g]}
              </option>
            ))}
          </select>
        </div>
        {teams.length ? (
          <>
            {/* Sent with the ticked boxes: none ticked is the whole structure, chosen. */}
            <input type="hidden" name="teamId" value="" />
            <CheckboxGroup
              form={emptyForm({ teamId: teamIds.join(',') })}
              name="teamId"
              label="Équipes"
              hint="Toute la structure si aucune n’est cochée"
              options={Object.fromEntries(teams.map((t) => [t.id, t.name]))}
              inline
            />
          </>
        ) : null}
        <button type="submit" class="fr-btn fr-btn--secondary">
          Afficher
        </button>
      </form>
      <div class="fr-table fr-table--bordered">
        <table>
          <caption>Travail ouvert par {GROUPING_LABELS[groupBy].toLowerCase()}</caption>
          <thead>
            <tr>
              <th scope="col">{GROUPING_LABELS[groupBy]}</th>
              {buckets.map((b) => (
                <th scope="col">{BUCKET_HEADS[b]}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {groups.length === 0 ? (
              <tr>
                <td colSpan={buckets.length + 1}>Rien en retard ni en attente.</td>
              </tr>
            ) : (
              groups.map((g) => {
                const label = groupLabel(groupBy, g.key, g.label, g.active);
                return (
                  <tr>
                    <th scope="row">{label}</th>
                    {buckets.map((b) => cell(g.key, label, b, g.counts[b]))}
                  </tr>
                );
              })
            )}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{totalHead}</th>
              {buckets.map((b) => (
                <td class="av-num">{totals[b]}</td>
              ))}
            </tr>
          </tfoot>
        </table>
      </div>
      {totalNote ? <p class="fr-text--sm">{totalNote}</p> : null}

      <section class="fr-mt-6w" aria-labelledby="depart">
        <h2 id="depart" class="fr-h4">
          Confier tout le travail d’une personne à une autre
        </h2>
        <p class="fr-text--sm">
          Pour un départ ou une longue absence : tous ses suivis ouverts passent à la personne
          choisie, et, si la case est cochée, les dossiers dont elle est référente ; leurs échéances
          restent les mêmes. La personne choisie est avertie du nombre de suivis et de dossiers
          qu’elle reprend.
        </p>
        <form method="post" action="/equipe/confier-tout" novalidate>
          <Csrf token={ctx.csrfToken} />
          {/* Back to this backlog, its grouping and team filter kept. */}
          <input type="hidden" name="retour" value={backlogHref({ groupBy, teamIds })} />
          <div class="fr-select-group">
            <label class="fr-label" for="fromAssigneeId">
              Travail de
            </label>
            <select class="fr-select" id="fromAssigneeId" name="fromAssigneeId" required>
              <StaffOptions staff={leavers} active={staff} placeholder="Choisir une personne" />
            </select>
          </div>
          <div class="fr-select-group">
            <label class="fr-label" for="toAssigneeId">
              À confier à
            </label>
            <select class="fr-select" id="toAssigneeId" name="toAssigneeId" required>
              <StaffOptions staff={staff} placeholder="Choisir une personne" />
            </select>
          </div>
          <div class="fr-checkbox-group fr-mb-3w">
            <input type="checkbox" id="referents" name="referents" value="1" checked />
            <label class="fr-label" for="referents">
              Confier aussi les dossiers dont elle est référente
            </label>
          </div>
          <button type="submit" class="fr-btn">
            Confier le travail
          </button>
        </form>
      </section>
    </Layout>
  );
}

function ItemRow({ item, selectable }: { item: BacklogItem; selectable: boolean }) {
  if (item.type === 'report')
    return (
      <tr>
        <td>
          <a href={`/signalements/${item.id}`}>Signalement {item.receiptNumber}</a>
        </td>
        <td>{formatDateTime(item.receivedAt)}</td>
        <td>{item.channel === 'partner' ? 'Partenaire' : 'Formulaire public'}</td>
        <td>{item.triageDueAt ? formatDateTime(item.triageDueAt) : '—'}</td>
      </tr>
    );
  const person = <a href={`/personnes/${item.personId}`}>{item.personLabel}</a>;
  if (item.type === 'follow_up')
    return (
      <tr>
        {selectable ? (
          <td>
            <div class="fr-checkbox-group">
              <input type="checkbox" id={`suivi-${item.id}`} name="ids" value={item.id} />
              <label class="fr-label" for={`suivi-${item.id}`}>
                <span class="fr-sr-only">
                  Sélectionner « {item.title} » ({item.personLabel})
                </span>
              </label>
            </div>
          </td>
        ) : null}
        <td>{item.title}</td>
        <td>{person}</td>
        <td>{formatDateTime(item.dueAt)}</td>
        <td>{item.assigneeName ?? '—'}</td>
      </tr>
    );
  if (item.type === 'referral')
    return (
      <tr>
        <td>
          <a href={`/orientations/${item.id}`}>Orientation vers {item.partnerName}</a>
        </td>
        <td>{person}</td>
        <td>{formatDate(item.sentAt)}</td>
        <td>{item.requesterName ?? '—'}</td>
      </tr>
    );
  return (
    <tr>
      <td>{person}</td>
      <td>
        {item.lastContactAt
          ? formatDate(item.lastContactAt)
          : `Aucun (fiche créée le ${formatDate(item.createdAt)})`}
      </td>
      <td>{item.referentName ?? '—'}</td>
    </tr>
  );
}

const HEADS: Record<BacklogItem['type'], string[]> = {
  follow_up: ['Suivi', 'Personne', 'Échéance', 'En charge'],
  referral: ['Orientation', 'Personne', 'Envoyée le', 'Demandée par'],
  person: ['Personne', 'Dernier contact', 'Référent·e'],
  report: ['Signalement', 'Reçu le', 'Origine', 'Alerte des cadres le'],
};

/** The items behind one number; follow-ups may be selected and handed to someone else. */
export function BacklogItemsPage({
  ctx,
  address,
  label,
  list,
  staff,
}: {
  ctx: PageContext;
  address: ItemsAddress;
  label: string;
  list: Page<BacklogItem>;
  staff: Staff;
}) {
  const type: BacklogItem['type'] = (FOLLOW_UP_BUCKETS as readonly string[]).includes(
    address.bucket,
  )
    ? 'follow_up'
    : address.bucket === 'late_referrals'
      ? 'referral'
      : address.bucket === 'reports'
        ? 'report'
        : 'person';
  const selectable = type === 'follow_up' && list.items.length > 0;
  const title = `${BUCKET_LABELS[address.bucket]} : ${label}`;
  const table = (
    <div class="fr-table fr-table--bordered">
      <table>
        <caption>
          {title} ({list.total})
        </caption>
        <thead>
          <tr>
            {selectable ? (
              <th scope="col">
                <span class="fr-sr-only">Sélection</span>
              </th>
            ) : null}
            {HEADS[type].map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {list.items.length === 0 ? (
            <tr>
              <td colSpan={HEADS[type].length}>Aucun élément.</td>
            </tr>
          ) : (
            list.items.map((i) => <ItemRow item={i} selectable={selectable} />)
          )}
        </tbody>
      </table>
    </div>
  );
  return (
    <Layout title={title} ctx={ctx} nav="backlog">
      <p>
        <a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href={backlogHref(address)}>
          Tableau de l’équipe
        </a>
      </p>
      <h1>{title}</h1>
      {selectable ? (
        <form method="post" action="/equipe/confier" novalidate>
          <Csrf token={ctx.csrfToken} />
          <input type="hidden" name="retour" value={itemsHref(address, list.page)} />
          {table}
          <fieldset class="fr-fieldset fr-mt-3w">
            <legend class="fr-fieldset__legend">Confier les suivis sélectionnés</legend>
            <div class="fr-fieldset__element">
              <div class="fr-select-group">
                <label class="fr-label" for="toAssigneeId">
                  À confier à
                </label>
                <select class="fr-select" id="toAssigneeId" name="toAssigneeId" required>
                  <StaffOptions staff={staff} placeholder="Choisir une personne" />
                </select>
              </div>
            </div>
            <div class="fr-fieldset__element">
              <button type="submit" class="fr-btn">
                Confier
              </button>
            </div>
          </fieldset>
        </form>
      ) : (
        table
      )}
      <Pagination
        page={list.page}
        total={list.total}
        pageSize={list.pageSize}
        href={(p) => itemsHref(address, p)}
        label="Pages des éléments"
      />
    </Layout>
  );
}
