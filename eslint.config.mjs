import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'data/', 'test-output/', 'coverage/', 'server/web/static/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through server/config.ts',
        },
      ],
    },
  },
  // Layers (docs/architecture.md, "One way to do each thing"). Later blocks replace the rule's
  // options for their files, so each block lists every restriction of its folder.
  {
    files: ['server/lib/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(features|auth|web|seed)(/|$)',
              message:
                'server/lib is the bottom layer: it imports no feature, nothing of auth, the web or the seed. Inject what it needs (as the outbox into the unit of work).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/features/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(web|seed)(/|$)',
              message:
                'A feature imports neither server/web (pages call features, not the reverse) nor server/seed.',
            },
            {
              regex: '^\\.\\./[^/]+/[^/]+-repository$',
              message:
                "One feature reaches another through its service, never its repository: inject the other feature's service through server/container.ts.",
            },
          ],
        },
      ],
    },
  },
  {
    // The worker's side: the processors, the registry, the shell every deadline runs in.
    files: ['jobs/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(web|seed)(/|$)',
              message: 'A job imports neither server/web nor server/seed.',
            },
            {
              regex: '-repository$',
              allowTypeImports: true,
              message:
                "A job reaches rows through a service (where the rule lives), from the container's Deps, never a repository.",
            },
          ],
          paths: [
            {
              name: 'knex',
              allowTypeImports: true,
              message:
                'A job runs its rule through a service, in the transaction it is given; it builds no query.',
            },
          ],
        },
      ],
    },
  },
  {
    // Pages call services, as routes do: no repository, no query.
    files: ['server/web/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)seed(/|$)',
              message: 'A page imports nothing of server/seed.',
            },
            {
              regex: '-repository$',
              allowTypeImports: true,
              message:
                "A page calls services (deps.services), never a repository; only a repository's types may be imported.",
            },
          ],
          paths: [
            {
              name: 'knex',
              message: 'A page calls services, never knex.',
            },
          ],
        },
      ],
    },
  },
  {
    // What the container hands down: pages and processors use its services, not its database.
    files: ['server/web/**', 'jobs/*/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'MemberExpression[property.name=/^(knex|repos)$/]',
          message:
            'Pages and processors call services (deps.services), not the database or the repositories.',
        },
        {
          selector: 'VariableDeclarator > ObjectPattern > Property[key.name=/^(knex|repos)$/]',
          message:
            'Pages and processors call services (deps.services), not the database or the repositories.',
        },
        {
          selector: 'CallExpression[callee.name=/^(trx|db|knex)$/]',
          message: 'Pages and processors build no query: the rows stay in repositories.',
        },
      ],
    },
  },
  {
    files: ['server/config.ts', 'tests/**', 'bench/**', '.ci/**', 'tests/setup/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
