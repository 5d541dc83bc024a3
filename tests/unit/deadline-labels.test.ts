import { processors } from '../../jobs/registry';
import { DEADLINE_KIND_LABELS } from '../../server/web/admin/deadline-labels';

describe('deadline kind labels', () => {
  it('when the admins’ deadlines page lists a deadline, then its kind has a French label, whichever kind it is', () => {
    const unlabelled = Object.keys(processors).filter((kind) => !DEADLINE_KIND_LABELS[kind]);
    expect(unlabelled).toEqual([]);
  });
});
