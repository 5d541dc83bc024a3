import { assertPostgresVersion } from '../../server/lib/postgres-version';

describe('the PostgreSQL version aller-vers needs', () => {
  it('when the server is PostgreSQL 14, then it is refused saying 15 or later is needed and what it is', () => {
    expect(() => assertPostgresVersion(140011, '14.11 (Debian 14.11-1.pgdg120+1)')).toThrow(
      'aller-vers needs PostgreSQL 15 or later; this server is 14.11',
    );
    expect(() => assertPostgresVersion(130015, '13.15')).toThrow(/this server is 13\.15$/);
  });

  it('when the server is PostgreSQL 15 or later (the embedded PGlite is 18), then it is accepted', () => {
    expect(() => assertPostgresVersion(150000, '15.0')).not.toThrow();
    expect(() => assertPostgresVersion(160004, '16.4')).not.toThrow();
    expect(() => assertPostgresVersion(180000, '18.0')).not.toThrow();
  });

  it('when the version number cannot be read, then it is refused rather than assumed', () => {
    expect(() => assertPostgresVersion(Number.NaN, '')).toThrow(
      'aller-vers needs PostgreSQL 15 or later; this server is NaN',
    );
  });
});
