// Lint rules chosen for a security library: promises are never left floating or misused (an unhandled rejection
// is a crash, an un-awaited check a silent bypass, an un-awaited test assertion a test that cannot fail), switches
// over unions are exhaustive (a new failure reason or scheme must be handled everywhere), `any` does not leak
// from the library's code, and nothing evaluates strings as code. `npm run lint` runs it with zero warnings allowed.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['build/**', 'node_modules/**', 'sdk/**', 'spec/**', 'test-artifacts/**', 'bench/results/**', 'test/**/fixtures/**', 'docs/api/**', 'bench/express-request-maps.mjs' /* V8 natives syntax (%GetMap) */] },
  js.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }], 'no-control-regex': 'off' },
  },
  {
    files: ['static/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-new-func': 'error',
      'no-proto': 'error',
      // Handing on a caught value (`catch (e) { return Promise.reject(e) }`) is propagation, as only-throw-error allows by default.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // An async function that never awaits is how a throw becomes a rejection (tsoa and the adapters need promises).
      '@typescript-eslint/require-await': 'off',
      // Sanitizers and header checks match control characters on purpose (RFC 6750 §3, RFC 9110 §5.5).
      'no-control-regex': 'off',
    },
  },
  {
    // Tests read untyped JSON responses and reach into Node internals on purpose; every other rule holds there too.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
