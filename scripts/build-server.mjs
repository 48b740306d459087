// Bundles the server (apps/server/src/main.ts with our workspace packages) into apps/server/dist/main.mjs.
// Dependencies stay external and load natively; skipping the TypeScript loader at run time halves start-up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { root } from './bootstrap.mjs';

/** A service reads its SDL next to its source (`readFileSync(new URL('./schema.graphql', import.meta.url))`); the bundle inlines it. */
const inlineServiceSdl = {
  name: 'inline-service-sdl',
  setup(build) {
    build.onLoad({ filter: /services\/[^/]+\/src\/index\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8').replace(/readFileSync\(new URL\('(\.\/[^']+\.graphql)', import\.meta\.url\), 'utf8'\)/g, (_, rel) =>
        JSON.stringify(readFileSync(path.join(path.dirname(args.path), rel), 'utf8')),
      );
      return { contents: source, loader: 'ts' };
    });
  },
};

/** Our workspace packages (@circles/*) are bundled; everything from npm stays an import. */
const externalDependencies = {
  name: 'external-dependencies',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@circles/') ? undefined : { path: args.path, external: true }));
  },
};

export async function buildServer() {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['apps/server/src/main.ts'],
    outfile: 'apps/server/dist/main.mjs',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [inlineServiceSdl, externalDependencies],
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await buildServer();
