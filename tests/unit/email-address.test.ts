import { emailAddress, isEmailAddress } from '../../server/lib/email-address';

describe('the one email address check', () => {
  it.each([
    'a~b@example.fr',
    "o'brien@example.fr",
    'prenom.nom+ccas@example.fr',
    '{x}|y=z@example.fr',
    "!#$%&'*+/=?^_`{|}~-@example.fr",
    'a@sous-domaine.example.fr',
    'A@EXAMPLE.FR',
  ])('accepts %s, every atext character of RFC 5322 included', (address) => {
    expect(emailAddress().safeParse(address).success).toBe(true);
    expect(isEmailAddress(address)).toBe(true);
  });

  it.each([
    ['no domain', 'a@'],
    ['a dotless domain', 'a@localhost'],
    ['two dots in a row', 'a..b@example.fr'],
    ['a leading dot', '.a@example.fr'],
    ['a trailing dot', 'a.@example.fr'],
    ['a space', 'a b@example.fr'],
    ['a quoted local part', '"a b"@example.fr'],
    ['an address literal', 'a@[192.0.2.1]'],
    ['a hyphen starting a label', 'a@-example.fr'],
    ['an underscore in the domain', 'a@ex_ample.fr'],
    ['a NUL character', 'a\u0000b@example.fr'],
    ['a local part over 64 characters', `${'a'.repeat(65)}@example.fr`],
    [
      'an address over 254 characters',
      `a@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(70)}.fr`,
    ],
  ])('refuses %s', (_why, address) => {
    expect(emailAddress().safeParse(address).success).toBe(false);
    expect(isEmailAddress(address)).toBe(false);
  });

  it('trims what people type around it, and names the rule', () => {
    expect(emailAddress().parse('  a~b@example.fr ')).toBe('a~b@example.fr');
    expect(emailAddress().safeParse('pas une adresse').error?.issues[0].message).toBe(
      'must be an email address',
    );
  });
});
