// scripts/start.mjs without its web build step. The benchmark starts the platform with this instead of `npm start`
// when apps/web/.next is missing or older than the web sources, where `npm start` would first run `next build`
// (half a minute, and not the benchmark's business on a checkout others are working in). Everything else is the same:
// dependency check, server bundle, then the host from apps/server/dist/main.mjs.
import { spawn } from 'node:child_process';
import { ensureInstalled, root } from '../scripts/bootstrap.mjs';

ensureInstalled();
const { buildServer } = await import('../scripts/build-server.mjs');
await buildServer();
const child = spawn(process.execPath, ['--enable-source-maps', 'apps/server/dist/main.mjs'], {
  cwd: root,
  stdio: 'inherit',
  env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
