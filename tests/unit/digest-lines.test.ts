import { digestLines } from '../../server/features/digests/digest-email';

const none = { dueToday: 0, overdue: 0, referrals: 0, escalations: 0, reports: 0 };

describe('the lines of a daily digest', () => {
  it('when a manager has one or several escalated follow-ups, then the line says they were reported to them, in the singular or the plural', () => {
    expect(digestLines({ ...none, escalations: 1 }, false)).toEqual([
      '1 suivi de votre équipe en retard qui vous a été signalé',
    ]);
    expect(digestLines({ ...none, escalations: 3 }, false)).toEqual([
      '3 suivis de votre équipe en retard qui vous ont été signalés',
    ]);
  });

  it('when there is something of each kind, then one line each, in order', () => {
    expect(
      digestLines({ dueToday: 2, overdue: 1, referrals: 2, escalations: 2, reports: 1 }, false),
    ).toEqual([
      '2 suivis à faire aujourd’hui',
      '1 suivi en retard',
      '2 orientations sans réponse du partenaire dans le délai',
      '2 suivis de votre équipe en retard qui vous ont été signalés',
      '1 signalement en attente de tri au-delà du délai',
    ]);
    expect(digestLines({ ...none, referrals: 1 }, true)).toEqual([
      '1 demande d’orientation en attente de votre réponse',
    ]);
  });
});
