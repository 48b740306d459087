// `npm start`: installs what is missing, builds the web app if needed, then runs the embedded platform
// (web http://localhost:3000, GraphQL http://localhost:4000/graphql, data in ./.data).
import { spawn } from 'node:child_process';
import { ensureInstalled, ensureWebBuilt, root } from './bootstrap.mjs';

ensureInstalled();
ensureWebBuilt();
const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts'], { cwd: root, stdio: 'inherit', env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env } });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
