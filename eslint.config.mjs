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
      'no-restricted-imports': [
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
      'no-restricted-imports': [
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
    files: ['server/config.ts', 'tests/**', 'bench/**', '.ci/**', 'tests/setup/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
