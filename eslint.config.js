import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---------------------------------------------------------------------------------------------
// Layering (README "Layout"): dependencies point one way.
// - core/ imports nothing from agent/, sandbox/, lambda/, lib/ or bin/ (and no CDK).
// - lambda/ and agent/ import core/, never sandbox/, lib/ or bin/; lib/ imports core/ only.
// - sandbox/ and bin/ are the composition roots: they may import the handlers and the agent.
// - Every core/ module is pure unless listed in CORE_IO_MODULES: a pure module imports no
//   socket, file system or AWS SDK module, and no I/O module of core/ either (so it stays pure
//   all the way down); `import type` is allowed there, as it is erased at compile time. I/O
//   modules take their sockets, clients and clocks as parameters.
// Written with typescript-eslint's no-restricted-imports (regex patterns on the import specifier)
// and no-restricted-syntax for dynamic import(): no resolver plugin needed for relative TS imports.

/** core/ modules that do I/O (or import a module that does). A new I/O module is added here. */
const CORE_IO_MODULES = [
  'core/button/handle.ts',
  'core/button/newer-plugs.ts',
  'core/button/publish-click.ts',
  'core/button/relay-driver.ts',
  'core/button/secret-credentials.ts',
  'core/button/sns-publish.ts',
  'core/button/tplink-driver.ts',
  'core/jobs/file-job.ts',
  'core/release/companion-read.ts',
  'core/release/kms-signer.ts',
  'core/release/publish.ts',
  'core/jobs/iot-jobs.ts',
  'core/fleet/iot-groups.ts',
  'core/fleet/s3-ledger.ts',
  'core/fleet/sqs-queue.ts',
  'core/s3/current-object.ts',
  'core/s3/object-get.ts',
  'core/s3/object-hash.ts',
  'core/s3/object-reader.ts',
  'core/s3/process-event.ts',
  'core/s3/ranged-reader.ts',
  'core/s3/shadow-writer.ts',
  'core/s3/stream-probe.ts',
  'core/tplink/aes-transport.ts',
  'core/tplink/connect.ts',
  'core/tplink/discovery.ts',
  'core/tplink/http-post.ts',
  'core/tplink/index.ts',
  'core/tplink/klap-transport.ts',
  'core/tplink/operations.ts',
  'core/tplink/plug.ts',
  'core/tplink/session-transport.ts',
  'core/tplink/xor-transport.ts',
];

/** A relative import that climbs out of its folder into one of `dirs` (`../../agent/agent`). */
const climbsInto = (dirs) => `^(\\.\\./)+(${dirs.join('|')})(/|$)`;
const IO_PACKAGES = '^(node:)?(net|dgram|http|https|http2|tls|fs|fs/promises|child_process|worker_threads)$|^@aws-sdk/|^mqtt$';
/** How a pure module would reach a core I/O module: `./plug`, `../tplink/plug`, `../tplink` (its index). */
const CORE_IO_SPECIFIERS = `(^|/)(${CORE_IO_MODULES.map((p) => p.split('/').pop().replace(/\.ts$/, ''))
  .filter((name) => name !== 'index')
  .join('|')})$|^(\\.\\./)+(${CORE_IO_MODULES.filter((p) => p.endsWith('/index.ts'))
  .map((p) => p.split('/').at(-2))
  .join('|')})/?$`;

const rule = (regex, message, allowTypeImports = false) => ({ regex, message, allowTypeImports });
const CORE_LAYER = [
  rule(climbsInto(['agent', 'sandbox', 'lambda', 'lib', 'bin']), 'core/ is the inner layer: it must not import agent/, sandbox/, lambda/, lib/ or bin/ (README "Layout").'),
  rule('^(aws-cdk-lib|constructs)(/|$)', 'core/ is runtime code: CDK belongs in lib/.'),
];
const PURE = [
  rule(IO_PACKAGES, 'A pure core/ module imports no net, dgram, http(s), tls, fs, child_process, worker_threads, mqtt or @aws-sdk/*: take the socket or client as a parameter, or list the file in CORE_IO_MODULES in eslint.config.js.', true),
  rule(CORE_IO_SPECIFIERS, 'A pure core/ module must not import a core/ I/O module (CORE_IO_MODULES in eslint.config.js): take what it does as a parameter.', true),
];
const HANDLER_LAYER = [
  rule(climbsInto(['sandbox', 'lib', 'bin']), 'lambda/ and agent/ run on their own: they must not import sandbox/, lib/ or bin/ (the sandbox imports them, not the other way; README "Layout").'),
];
const LIB_LAYER = [
  rule(climbsInto(['agent', 'sandbox', 'lambda', 'bin']), 'lib/ (CDK) imports core/ only; Lambda code is bundled by entry path, not imported.'),
];

/** no-restricted-imports (type-only imports allowed where a rule says so: they vanish at compile time) plus the same check on dynamic import(). */
function restrict(patterns) {
  return {
    '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
    'no-restricted-syntax': [
      'error',
      ...patterns.map(({ regex, message }) => ({
        selector: `ImportExpression > Literal[value=/${regex.replace(/\//g, '\\/')}/]`,
        message,
      })),
    ],
  };
}

export default tseslint.config(

  { ignores: ['node_modules/', 'dist/', '.node-lowest/', 'cdk.out/', '.sandbox/', 'coverage/', 'node_modules/**', '.venv/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', structuredClone: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  // Later blocks replace a rule's options for the files they match, so each block lists all it needs.
  { files: ['core/**/*.ts'], rules: restrict(CORE_LAYER) },
  { files: ['core/**/*.ts'], ignores: CORE_IO_MODULES, rules: restrict([...CORE_LAYER, ...PURE]) },
  { files: ['lambda/**/*.ts', 'agent/**/*.ts'], rules: restrict(HANDLER_LAYER) },
  { files: ['lib/**/*.ts'], rules: restrict(LIB_LAYER) },
);
