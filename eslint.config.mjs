// Lint, including the module boundaries: services import libs (as @arcwatch/<lib>), never each
// other; libs never import services; nothing reaches into another project by relative path.
import tseslint from 'typescript-eslint';

const services = ['collector', 'tracing'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'tools/register.js', '**/*.js', '**/*.mjs', '.nx/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='only']", message: 'no .only' },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/services/**', '@arcwatch/service-*'], message: 'libs never import services' },
        { group: ['../../*/src/**', '../../../libs/**'], message: 'import another lib as @arcwatch/<lib>' },
      ] }],
    },
  },
  ...services.map((s) => ({
    files: [`services/${s}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/services/**', ...services.filter((o) => o !== s).map((o) => `**/${o}/**`)], message: 'services never import each other; share through libs/contracts' },
        { group: ['**/libs/**'], message: 'import a lib as @arcwatch/<lib>' },
      ] }],
    },
  })),
);
