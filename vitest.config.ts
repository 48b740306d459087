import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql ships CJS (main) and ESM (module). Node, and every dependency, loads the CJS build; Vite would pick
    // the ESM one for our sources, giving two graphql realms ("Cannot use GraphQLSchema from another module").
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'apps/server/test/**/*.test.ts', 'tests/**/*.test.ts'],
    // Real databases, real processes and a real browser: generous but finite.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll waits for something a real system does (an image re-encoded, an event consumed); 1 s, the
    // default, is too short on two shared cores under a full parallel run.
    expect: { poll: { timeout: 15_000, interval: 50 } },
    pool: 'forks',
    // Two cores: more workers only thrash.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
