import type { ComponentChildren } from 'preact';
import type { PublicStructure } from '../../features/settings/settings-repository';
import type { StructureSettings } from '../../features/settings/settings-schemas';
import { AUDIT_RETENTION_MONTHS } from '../../features/settings/settings-schemas';
import { ACCESSIBILITY_LEVEL_TEXT, Layout, type PageContext } from '../views/layout';

/** What a legal page shows: the structure it speaks for (none in an empty deployment). */
export interface LegalNotice {
  structure: PublicStructure;
  settings: StructureSettings;
}

/** What each legal page is given: the page frame, and the structure it speaks for or none. */
export interface LegalPageProps {
  ctx: PageContext;
  notice: LegalNotice | null;
}

/**
 * Faults of the software itself, the same for every structure: known from the browser tests
 * (axe), listed here so each statement tells them.
 */
const SOFTWARE_ISSUES = [
  'La page « Référence de l’API », destinée aux développeurs des systèmes partenaires, affiche un composant tiers (Swagger UI) : certains contrastes de couleur y sont insuffisants, des boutons y contiennent des liens, une liste déroulante n’y a pas d’intitulé et une zone défilante n’y est pas atteignable au clavier. Le document OpenAPI qu’elle présente reste lisible à l’adresse /api/docs.',
];

const DEFENSEUR_FORM = 'https://formulaire.defenseurdesdroits.fr/';
const DEFENSEUR_DELEGATES = 'https://www.defenseurdesdroits.fr/saisir/delegues';
const CNIL_COMPLAINT = 'https://www.cnil.fr/fr/plaintes';

/** A setting the structure has not filled in yet, said plainly rather than left blank. */
function Given({ value, missing }: { value: string; missing: string }) {
  return value ? <>{value}</> : <em>{missing}</em>;
}

/** A multi-line setting, one paragraph a line. */
function Lines({ text }: { text: string }) {
  return (
    <>
      {text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => (
          <li>{l}</li>
        ))}
    </>
  );
}

const NOT_GIVEN = 'non renseigné par la structure';

/** A contact given as an email address or a web page becomes a link; anything else is text. */
function Contact({ value, fallback }: { value: string; fallback: ComponentChildren }) {
  if (!value) return <>{fallback}</>;
  if (/^https?:\/\/\S+$/.test(value)) return <a href={value}>{value}</a>;
  if (/^\S+@\S+$/.test(value)) return <a href={`mailto:${value}`}>{value}</a>;
  return <>{value}</>;
}

function LegalLayout({
  title,
  ctx,
  notice,
  children,
}: {
  title: string;
  ctx: PageContext;
  notice: LegalNotice | null;
  children: ComponentChildren;
}) {
  return (
    <Layout title={title} ctx={ctx}>
      <h1>{title}</h1>
      {notice ? (
        <p class="fr-text--lead">
          {notice.structure.name}
          {notice.structure.city ? ` (${notice.structure.city})` : ''}
        </p>
      ) : null}
      {children}
    </Layout>
  );
}

/** The RGAA accessibility statement, after the model of the DINUM. */
export function AccessibilityPage({ ctx, notice }: LegalPageProps) {
  const s = notice?.settings;
  const name = notice?.structure.name ?? 'la structure';
  const level = s?.accessibilityLevel ?? 'non_conforme';
  return (
    <LegalLayout title="Déclaration d’accessibilité" ctx={ctx} notice={notice}>
      <p>
        {capitalised(name)} s’engage à rendre ses services numériques accessibles, conformément à
        l’article 47 de la loi n° 2005-102 du 11 février 2005. Cette déclaration s’applique à
        aller-vers, son outil de suivi des personnes et d’orientation vers ses partenaires.
      </p>
      <h2>État de conformité</h2>
      <p>
        aller-vers est <strong id="niveau-conformite">{ACCESSIBILITY_LEVEL_TEXT[level]}</strong>{' '}
        avec le référentiel général d’amélioration de l’accessibilité (RGAA), version 4.1.
      </p>
      <h2>Résultats des tests</h2>
      <p>
        {s?.accessibilityAuditDate
          ? `Un audit de conformité a été réalisé le ${frenchDay(s.accessibilityAuditDate)}.`
          : 'Aucun audit de conformité n’a encore été réalisé : la structure se déclare donc non conforme.'}{' '}
        Chaque page est vérifiée automatiquement avec axe-core dans le navigateur Chromium, au
        clavier et sur petit écran, à chaque évolution du logiciel.
      </p>
      <h2>Contenus non accessibles</h2>
      <h3>Non-conformités</h3>
      <ul>
        {SOFTWARE_ISSUES.map((i) => (
          <li>{i}</li>
        ))}
        {s?.accessibilityIssues ? <Lines text={s.accessibilityIssues} /> : null}
      </ul>
      <h3>Technologies utilisées</h3>
      <p>HTML, CSS et JavaScript ; les pages restent utilisables sans JavaScript.</p>
      <h2>Retour d’information et contact</h2>
      <p>
        Si vous n’arrivez pas à accéder à un contenu ou à un service, contactez{' '}
        <Contact
          value={s?.accessibilityContact ?? ''}
          fallback={<>l’accueil de {name} (contact non renseigné)</>}
        />{' '}
        pour être orienté vers une alternative accessible ou obtenir le contenu sous une autre
        forme.
      </p>
      <h2>Voies de recours</h2>
      <p>
        Si vous constatez un défaut d’accessibilité vous empêchant d’accéder à un contenu ou à une
        fonctionnalité, que vous nous le signalez et que vous ne parvenez pas à obtenir de réponse,
        vous pouvez adresser vos doléances ou une demande de saisine au Défenseur des droits :
      </p>
      <ul>
        <li>
          en écrivant au Défenseur des droits par le{' '}
          <a href={DEFENSEUR_FORM}>formulaire en ligne</a> ;
        </li>
        <li>
          en contactant <a href={DEFENSEUR_DELEGATES}>le délégué du Défenseur des droits</a> dans
          votre région ;
        </li>
        <li>
          en envoyant un courrier par la poste (gratuit, sans timbre) : Défenseur des droits, Libre
          réponse 71120, 75342 Paris CEDEX 07.
        </li>
      </ul>
    </LegalLayout>
  );
}

/** Who publishes and hosts the service. */
export function LegalNoticePage({ ctx, notice }: LegalPageProps) {
  const s = notice?.settings;
  return (
    <LegalLayout title="Mentions légales" ctx={ctx} notice={notice}>
      <h2>Éditeur</h2>
      <p>
        {notice?.structure.name ?? <em>{NOT_GIVEN}</em>}
        <br />
        <Given value={s?.publisherAddress ?? ''} missing={`Adresse ${NOT_GIVEN}`} />
      </p>
      <h2>Directeur ou directrice de la publication</h2>
      <p>
        <Given value={s?.publicationDirector ?? ''} missing={NOT_GIVEN} />
      </p>
      <h2>Hébergement</h2>
      <p>
        <Given value={s?.hostingProvider ?? ''} missing={NOT_GIVEN} />
      </p>
      <h2>Logiciel</h2>
      <p>
        aller-vers est un logiciel libre, publié sous la licence GNU Affero General Public License,
        version 3 ou ultérieure (AGPL-3.0-or-later).
      </p>
      <h2>Accessibilité et données personnelles</h2>
      <p>
        Voir la <a href={linkFor('/accessibilite', notice)}>déclaration d’accessibilité</a> et la
        page <a href={linkFor('/donnees-personnelles', notice)}>données personnelles</a>.
      </p>
    </LegalLayout>
  );
}

/** What is done with personal data, for how long, and the person's rights (RGPD art. 13). */
export function PersonalDataPage({ ctx, notice }: LegalPageProps) {
  const s = notice?.settings;
  const name = notice?.structure.name ?? 'la structure';
  const months = s?.retentionMonths ?? 24;
  return (
    <LegalLayout title="Données personnelles" ctx={ctx} notice={notice}>
      <h2>Responsable du traitement</h2>
      <p>
        {capitalised(name)}
        {s?.publisherAddress ? `, ${s.publisherAddress}` : ''}. Délégué à la protection des données
        : <Contact value={s?.dpoContact ?? ''} fallback={<em>{NOT_GIVEN}</em>} />.
      </p>
      <h2>Finalités</h2>
      <ul>
        <li>
          aller vers les personnes qui ne recourent pas à leurs droits, les rencontrer et suivre
          leurs démarches (contacts, suivis, droits ouverts ou non) ;
        </li>
        <li>les orienter vers des partenaires, avec leur consentement ;</li>
        <li>
          recevoir les signalements d’habitants ou de partenaires sur une personne en difficulté ;
        </li>
        <li>
          produire des statistiques d’observation sociale, où tout effectif inférieur au seuil de la
          structure est masqué.
        </li>
      </ul>
      <h2>Base légale</h2>
      <p>
        La mission d’intérêt public d’action sociale confiée à {name} par le code de l’action
        sociale et des familles (article 6.1.e du RGPD). L’orientation vers un partenaire et les
        contacts par SMS ou courriel reposent sur le consentement de la personne (article 6.1.a),
        qu’elle peut retirer à tout moment. Le numéro de sécurité sociale n’est jamais collecté.
      </p>
      <h2>Données et destinataires</h2>
      <ul>
        <li>
          les agents habilités de {name}, selon leur rôle : travailleurs sociaux et cadres pour les
          dossiers ; les administrateurs et observateurs n’y ont pas accès ;
        </li>
        <li>
          un partenaire destinataire d’une orientation, pour le seul minimum : le nom ou l’alias, le
          motif et les coordonnées que la personne a accepté de lui transmettre ;
        </li>
        <li>les élus et l’observatoire, pour des statistiques agrégées seulement ;</li>
        <li>l’hébergeur, sous-traitant, sans accès aux textes libres qui sont chiffrés.</li>
      </ul>
      <h2>Durées de conservation</h2>
      <p>
        Un dossier sans activité pendant <strong id="duree-conservation">{months} mois</strong> est
        anonymisé : identité, coordonnées et textes libres sont supprimés ; l’année de naissance, le
        quartier, les droits et leurs résultats sont gardés pour les statistiques. Le journal des
        accès aux dossiers est conservé {AUDIT_RETENTION_MONTHS} mois.
      </p>
      <h2>Vos droits</h2>
      <p>
        Vous pouvez accéder aux données vous concernant, les faire rectifier ou effacer, en demander
        la limitation ou vous opposer à leur traitement (articles 15 à 21 du RGPD). Pour exercer ces
        droits, contactez{' '}
        <Contact
          value={s?.dpoContact ?? ''}
          fallback={<>l’accueil de {name} (contact du délégué non renseigné)</>}
        />
        .
      </p>
      <p>
        Si vous estimez, après nous avoir contactés, que vos droits ne sont pas respectés, vous
        pouvez adresser <a href={CNIL_COMPLAINT}>une réclamation à la CNIL</a> (3 place de Fontenoy,
        TSA 80715, 75334 Paris Cedex 07).
      </p>
      <h2>Cookies</h2>
      <p>
        Un seul cookie, de session, strictement nécessaire à la connexion ; aucun cookie de mesure
        d’audience ni de publicité.
      </p>
    </LegalLayout>
  );
}

/** A link to another legal page of the same structure, for a visitor who named it. */
function linkFor(path: string, notice: LegalNotice | null): string {
  return notice ? `${path}?structure=${encodeURIComponent(notice.structure.slug)}` : path;
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function frenchDay(day: string): string {
  return new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'UTC' }).format(
    new Date(`${day}T00:00:00Z`),
  );
}
