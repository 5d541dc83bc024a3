import type { DemoSeedStep } from './demo';
import { DEMO_EMAIL_DOMAIN } from './seed-accounts';

/**
 * Demo directory: the food bank (created by the base seed, here described), a home-help service
 * and an insertion garden, each with data·inclusion themes, all owned by the demo CCAS.
 */
export const partnerDirectoryDemoStep: DemoSeedStep = async (ctx) => {
  const { trx, now } = ctx;
  const foodBank = ctx.partners.banqueAlimentaire;
  await trx('partners').where({ id: foodBank }).update({
    description: 'Aide alimentaire d’urgence et épicerie solidaire.',
    area: 'Angers Loire Métropole',
    how_to_reach: 'Orientation par un travailleur social ; permanence du lundi au vendredi.',
    last_reviewed_at: now,
  });
  const [homeHelp] = await trx('partners')
    .insert({
      structure_id: ctx.structureId,
      name: 'ADMR Anjou — aide à domicile',
      email: `contact@aide-domicile.${DEMO_EMAIL_DOMAIN}`,
      phone: '02 41 00 00 01',
      description: 'Aide à domicile pour les personnes âgées, handicapées ou les familles.',
      area: 'Maine-et-Loire',
      how_to_reach: 'Par téléphone ou orientation écrite.',
      last_reviewed_at: now,
    })
    .returning('id');
  const [garden] = await trx('partners')
    .insert({
      structure_id: ctx.structureId,
      name: 'Jardin de Cocagne angevin',
      email: `contact@jardin-insertion.${DEMO_EMAIL_DOMAIN}`,
      phone: '02 41 00 00 02',
      description: 'Chantier d’insertion en maraîchage biologique et paniers solidaires.',
      area: 'Angers et communes voisines',
      how_to_reach: 'Orientation par un référent RSA ou un travailleur social.',
      last_reviewed_at: now,
    })
    .returning('id');
  ctx.partners.aideADomicile = homeHelp.id;
  ctx.partners.jardinInsertion = garden.id;

  const service = (
    partnerId: string,
    name: string,
    themes: string[],
    audience: string[],
    responseDelayDays: number | null,
  ) => ({
    partner_id: partnerId,
    name,
    themes,
    audience,
    response_delay_days: responseDelayDays,
    last_reviewed_at: now,
  });
  await trx('partner_services').insert([
    service(
      foodBank,
      'Colis alimentaires d’urgence',
      ['equipement-et-alimentation--alimentation'],
      ['tous-publics'],
      3,
    ),
    service(
      foodBank,
      'Épicerie solidaire',
      ['equipement-et-alimentation--alimentation', 'gestion-financiere'],
      ['familles-enfants', 'beneficiaires-rsa'],
      null,
    ),
    service(
      homeHelp.id,
      'Aide à domicile et portage de repas',
      ['handicap', 'sante', 'equipement-et-alimentation--alimentation'],
      ['seniors-65', 'personnes-en-situation-de-handicap'],
      null,
    ),
    service(
      garden.id,
      'Chantier d’insertion maraîchage',
      ['remobilisation', 'trouver-un-emploi'],
      ['beneficiaires-rsa', 'demandeurs-emploi'],
      10,
    ),
  ]);
};

/** One referral waiting in the food bank's inbox, with the person's consent. */
export const referralDemoStep: DemoSeedStep = async (ctx) => {
  const { trx, now, cipher } = ctx;
  const personId = Object.values(ctx.persons)[0];
  const worker = ctx.users.worker;
  const foodBank = ctx.partners.banqueAlimentaire;
  if (!personId || !worker || !foodBank) return;
  const [consent] = await trx('consents')
    .insert({
      structure_id: ctx.structureId,
      person_id: personId,
      purpose: 'referral',
      partner_id: foodBank,
      method: 'oral',
      shared_fields: [],
      given_at: now,
      recorded_by: worker,
    })
    .returning('id');
  const [referral] = await trx('referrals')
    .insert({
      structure_id: ctx.structureId,
      person_id: personId,
      partner_id: foodBank,
      consent_id: consent.id,
      requester_id: worker,
      reason_enc: cipher.encrypt('Aide alimentaire d’urgence'),
      shared_summary_enc: cipher.encrypt('Rencontré en maraude ; accepte d’être orienté.'),
      created_at: now,
      updated_at: now,
    })
    .returning('id');
  await trx('referral_events').insert({
    referral_id: referral.id,
    structure_id: ctx.structureId,
    to_status: 'requested',
    actor_kind: 'user',
    actor_id: worker,
    at: now,
  });
};
