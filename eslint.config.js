// Lint runs as part of `npm test`. Type-aware rules catch the promise mistakes
// (floating promises, misused async callbacks) that matter most in a stream engine.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bench/results/**', '.cache/**', 'data/**', 'coverage/**', '.sluice/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The layers (README, "Code layout"): jobs/ -> api/ (the public API) -> engine/ (+ state/, metrics/).
  // A built-in job imports only what a user's job can import; the engine never imports the API, the jobs
  // or the CLI's composition root (cli/), which is what keeps the package free of cycles.
  {
    files: ['jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(engine|state|metrics|cli)(/|$)',
              message: 'A job imports only the public API (api/), as a user\'s job imports `sluice`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['engine/**/*.ts', 'state/**/*.ts', 'metrics/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(api|jobs|cli)(/|$)',
              message: 'engine/, state/ and metrics/ never import the public API, the jobs or the CLI (dependencies point one way).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+(jobs|cli)(/|$)', message: 'The public API does not import the built-in jobs or the CLI.' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
