// ESLint: typescript-eslint's strict and stylistic type-checked rule sets over every file the
// compiler builds, plus the repository's scripts. `npm test` runs it before any test
// (scripts/run-tests.mjs), so a lint error fails CI like a failing test.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans read naturally in messages and file names; objects, null and
      // undefined in a template are still errors (they print "[object Object]" or "undefined").
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      // `() => void call()` in a callback is the idiom for "fire and ignore"; returning a void
      // expression from a block body is still an error.
      // `return reject(err)` as an early exit inside a void callback is the idiom too.
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true },
      ],
      // @kubernetes/client-node declares its API models (V1Pod, V1ObjectMeta...) as classes, but
      // they are plain JSON on the wire and the library serialises object literals itself; every
      // manifest here is an object literal by design.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // `const { gpu: _gpu, ...rest } = spec` names a field only to leave it out of the rest.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      '@typescript-eslint/no-misused-spread': [
        'error',
        {
          allow: [
            {
              from: 'package',
              package: '@kubernetes/client-node',
              name: [
                'V1ObjectMeta',
                'V1Pod',
                'V1PodSpec',
                'V1Container',
                'V1ConfigMap',
                'V1Node',
                'V1NodeStatus',
                'V1Deployment',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    // In a test a wrong `!` fails the test with a TypeError, which is the assertion it stands for.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
