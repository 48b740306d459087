// `npm start`: installs what is missing, builds the web app if needed and the server bundle, then runs the
// embedded platform (web http://localhost:3000, GraphQL http://localhost:4000/graphql, data in ./.data).
import { spawn } from 'node:child_process';
import { ensureInstalled, ensureWebBuilt, root } from './bootstrap.mjs';

ensureInstalled();
ensureWebBuilt();
// Imported only now: esbuild is a dependency, present once ensureInstalled has run.
const { buildServer } = await import('./build-server.mjs');
await buildServer(); // ~0.2 s, so always fresh
const child = spawn(process.execPath, ['--enable-source-maps', 'apps/server/dist/main.mjs'], {
  cwd: root,
  stdio: 'inherit',
  env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
