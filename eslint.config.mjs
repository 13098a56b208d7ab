// Lint, including the module boundaries (tools/eslint-boundaries.mjs): derived from the folders,
// so a service, lib or tool created later is covered without a change here.
import tseslint from 'typescript-eslint';
import { boundaries } from './tools/eslint-boundaries.mjs';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'tools/register.js', '**/*.js', '**/*.mjs', '.nx/**', '.arcwatch/**'],
  },
  ...tseslint.configs.recommended,
  {
    plugins: { arcwatch: { rules: { boundaries } } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'arcwatch/boundaries': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='only']",
          message: 'no .only',
        },
      ],
    },
  },
);
