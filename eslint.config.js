// Lint setup: type-aware rules for an async server, plus the layer boundaries of DESIGN.md §2
// expressed as import restrictions, so a wrong-way import fails CI instead of relying on a comment.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: forbidden.map((dir) => ({
        group: [`**/${dir}/*`, `**/${dir}/**`],
        message: `This layer must not import from src/${dir} (see DESIGN.md §2).`,
      })),
    }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // Imports point one way: http → dav ← {acl, caldav, carddav, sync} → store.
  layer(['src/dav/**'], ['http', 'caldav', 'carddav', 'sync', 'cli', 'store/sqlite', 'store/postgres']),
  layer(['src/store/**'], ['http', 'dav', 'acl', 'caldav', 'carddav', 'sync', 'cli', 'auth']),
  layer(['src/ical/**', 'src/vcard/**'], ['http', 'dav', 'acl', 'caldav', 'carddav', 'sync', 'cli', 'store', 'auth']),
  layer(['src/auth/**'], ['http', 'dav', 'caldav', 'carddav', 'sync', 'cli']),
  layer(['src/caldav/**', 'src/carddav/**', 'src/sync/**', 'src/acl/**'], ['http', 'cli', 'store/sqlite', 'store/postgres']),
);
