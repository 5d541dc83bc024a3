import { DEFAULT_SETTINGS, withDefaults } from '../../server/features/settings/settings-schemas';

describe('stored settings read leniently (withDefaults)', () => {
  it('when a field is missing or out of range, then it takes its default; the others are kept', () => {
    const got = withDefaults({ noContactDays: 45, smallCountThreshold: 1, requireTwoFactor: true });
    expect(got).toEqual({
      ...DEFAULT_SETTINGS,
      noContactDays: 45,
      requireTwoFactor: true,
    });
    expect(withDefaults(null)).toEqual(DEFAULT_SETTINGS);
    expect(withDefaults('not an object')).toEqual(DEFAULT_SETTINGS);
  });

  it('when the same settings are read again, then the answer is the same, and no caller can change it for the next', () => {
    const stored = { digestTime: '09:15', workingHours: { start: '09:00', end: '17:00' } };
    const first = withDefaults(stored);
    // Another object with the same JSON (as each request's read of the row gives).
    const again = withDefaults(JSON.parse(JSON.stringify(stored)));
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.workingHours)).toBe(true);
    expect(() => {
      (first as { digestTime: string }).digestTime = '23:00';
    }).toThrow(TypeError);
    expect(withDefaults(stored).digestTime).toBe('09:15');
  });

  it('when the stored settings change, then the new ones are read, not the old answer', () => {
    const before = withDefaults({
      accessibilityLevel: 'partiellement_conforme',
      noContactDays: 40,
    });
    const after = withDefaults({ accessibilityLevel: 'partiellement_conforme', noContactDays: 41 });
    expect(before).toMatchObject({
      noContactDays: 40,
      accessibilityLevel: 'partiellement_conforme',
    });
    expect(after).toMatchObject({
      noContactDays: 41,
      accessibilityLevel: 'partiellement_conforme',
    });
    // A settings object that is whole but inconsistent falls back to the defaults as a whole,
    // frozen to the last array: no caller can change the defaults of every other.
    const fallback = withDefaults({ noContactDays: 100, noContactCloseDays: 90 });
    expect(fallback.noContactDays).toBe(DEFAULT_SETTINGS.noContactDays);
    expect(Object.isFrozen(fallback.letterhead.addressLines)).toBe(true);
    expect(() => fallback.letterhead.addressLines.push('1 rue de la Paix')).toThrow(TypeError);
    expect(DEFAULT_SETTINGS.letterhead.addressLines).toEqual([]);
  });
});
