import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'clients/*/dist/**', 'node_modules/**', 'inference-runtime/static/**', 'examples/**/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The code every request runs through. On Node 20 (V8 11.3) an object literal that opens with a spread and
    // then names a key gets a hidden class of its own, kept in the old generation until a full collection; one
    // per request kept requests' objects alive through young-generation collections (docs/benchmarks.md,
    // "Hidden classes under :predict"). Name the keys first, or use Object.assign({}, a, { key }).
    files: ['inference-runtime/{http,dataplane,core,vision}/**/*.ts', 'inference-runtime/tasks/common/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ObjectExpression:has(> SpreadElement:first-child):has(> Property)',
          message: 'An object literal that opens with a spread and then names a key gets a hidden class of its own on Node 20 (eslint.config.js).',
        },
      ],
    },
  },
);
