// ESLint (flat config): typescript-eslint's recommended rules plus the type-aware rules that catch real bugs in
// async Node code. Formatting is Prettier's job (.prettierrc.json); `make lint` runs both, `make test` runs lint first.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'hack/tools/', '**/*.js', '!eslint.config.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits loses its error: handle it, or mark the intent with `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // An AbortSignal's reason is `any` by design; rejecting with it is how abortable waits end.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'no-empty': ['error', { allowEmptyCatch: false }],
      // `x == null` is the one idiom for null-or-undefined; everything else compares strictly.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Closures may capture a `let` that start-up code assigns once, later (src/hub/hub.ts).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
);
