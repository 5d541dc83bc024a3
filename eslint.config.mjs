import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

/**
 * Two database rules no stock rule expresses (docs/security.md lines 11 and 28).
 *
 * no-string-sql: the text given to knex's raw, whereRaw, joinRaw, orderByRaw… is SQL written in
 * the code, never a value: a template literal may interpolate only SQL constants (an UPPER_CASE
 * name, or a member of one, as `FROM[entity].person`) and SQL fragment builders (functions named
 * `…Sql` or in UPPER_CASE, as `PARIS_DAY('r.at')`); no `+` concatenation, no `.join()`, no variable spliced in. Values travel as bindings
 * (`?`, `:name`), identifiers as `??`.
 *
 * trx-in-transaction: inside the callback of `x.transaction(async (trx) => …)` or of the unit of
 * work (`uow(async (trx) => …)`), a query runs on `trx`: a query on the outer `knex` (or
 * `deps.knex`) takes a second pooled connection and deadlocks the pool under load. `knex.raw(…)`
 * as a value inside a trx query, `knex.ref` and `knex.fn` build no query and stay allowed.
 */
const RAW_METHOD = /^(raw|[a-zA-Z]+Raw)$/;
const SQL_CONSTANT = /^[A-Z][A-Z0-9_]*$/;
const SQL_BUILDER = /Sql$/;

const isSqlBuilder = (name) => SQL_BUILDER.test(name) || SQL_CONSTANT.test(name);

function calleeName(node) {
  const c = node.callee;
  if (c.type === 'Identifier') return c.name;
  if (c.type === 'MemberExpression' && !c.computed && c.property.type === 'Identifier')
    return c.property.name;
  return null;
}

function rootIdentifier(node) {
  let n = node;
  while (n.type === 'MemberExpression') n = n.object;
  return n.type === 'Identifier' ? n : null;
}

/** Text that is SQL from the code: a constant, a constant table's entry, a builder's result. */
function isSqlInterpolation(node) {
  if (node.type === 'Literal') return true;
  if (node.type === 'TemplateLiteral') return node.expressions.every(isSqlInterpolation);
  if (node.type === 'Identifier') return SQL_CONSTANT.test(node.name);
  if (node.type === 'MemberExpression') {
    const root = rootIdentifier(node);
    return root !== null && SQL_CONSTANT.test(root.name);
  }
  if (node.type === 'CallExpression') return isSqlBuilder(calleeName(node) ?? '');
  return false;
}

function isSqlArgument(node) {
  switch (node.type) {
    case 'Literal':
      return typeof node.value === 'string';
    case 'TemplateLiteral':
      return node.expressions.every(isSqlInterpolation);
    // A named fragment (a constant, a builder's result kept in a variable, `w.sql`).
    case 'Identifier':
    case 'MemberExpression':
      return true;
    case 'CallExpression':
      return isSqlBuilder(calleeName(node) ?? '');
    default:
      return false;
  }
}

const TRANSACTION_OPENERS = new Set(['transaction', 'uow']);

function transactionCallback(fn) {
  const call = fn.parent;
  return (
    call &&
    call.type === 'CallExpression' &&
    call.arguments[0] === fn &&
    TRANSACTION_OPENERS.has(calleeName(call) ?? '')
  );
}

function insideTransaction(node) {
  for (let n = node.parent; n; n = n.parent) {
    if (
      (n.type === 'ArrowFunctionExpression' || n.type === 'FunctionExpression') &&
      transactionCallback(n)
    )
      return true;
  }
  return false;
}

/** `knex.raw(…)` handed to a query as a value (an argument, a property, an element). */
function rawAsValue(member) {
  const call = member.parent;
  if (call.type !== 'CallExpression' || call.callee !== member) return false;
  const p = call.parent;
  return (
    (p.type === 'CallExpression' && p.arguments.includes(call)) ||
    (p.type === 'Property' && p.value === call) ||
    p.type === 'ArrayExpression'
  );
}

const local = {
  rules: {
    'no-string-sql': {
      meta: { type: 'problem', schema: [] },
      create(context) {
        return {
          CallExpression(node) {
            if (node.callee.type !== 'MemberExpression') return;
            if (!RAW_METHOD.test(calleeName(node) ?? '')) return;
            const sql = node.arguments[0];
            if (!sql || isSqlArgument(sql)) return;
            context.report({
              node: sql,
              message:
                'SQL text is written in the code: pass values as bindings (? or :name) and identifiers as ??; interpolate only SQL constants (UPPER_CASE) or fragment builders (…Sql).',
            });
          },
        };
      },
    },
    'trx-in-transaction': {
      meta: { type: 'problem', schema: [] },
      create(context) {
        const check = (ref) => {
          if (!insideTransaction(ref)) return;
          const parent = ref.parent;
          if (parent.type === 'MemberExpression' && parent.object === ref && !parent.computed) {
            const name = parent.property.name;
            if (name === 'ref' || name === 'fn') return;
            if (name === 'raw' && rawAsValue(parent)) return;
          }
          context.report({
            node: ref,
            message:
              'Inside a transaction, query through its trx: the outer knex takes a second connection (a deadlock of the pool under load).',
          });
        };
        return {
          Identifier(node) {
            if (node.name !== 'knex') return;
            const p = node.parent;
            // A property name, a key or a declaration is not a use of the outer knex.
            if (p.type === 'MemberExpression' && p.property === node && !p.computed) return;
            if (p.type === 'Property' && p.key === node && p.value !== node) return;
            if (p.type === 'ImportSpecifier' || p.type === 'ImportDefaultSpecifier') return;
            if (p.type === 'TSQualifiedName' || p.type === 'TSTypeReference') return;
            if ((p.type === 'VariableDeclarator' && p.id === node) || p.type === 'Property') return;
            check(node);
          },
          'MemberExpression[property.name="knex"]'(node) {
            check(node);
          },
        };
      },
    },
  },
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'data/',
      'test-output/',
      'coverage/',
      'server/web/static/',
      'bench/results/',
    ],
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
    // The database rules (above): runtime code only; migrations write DDL from their own constants.
    files: ['server/**', 'jobs/**'],
    plugins: { local },
    rules: {
      'local/no-string-sql': 'error',
      'local/trx-in-transaction': 'error',
    },
  },
  {
    files: ['server/config.ts', 'tests/**', 'bench/**', '.ci/**', 'tests/setup/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
