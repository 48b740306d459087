// Installs dependencies when needed, using only Node built-ins (this runs before anything is installed).
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

export function ensureInstalled() {
  const marker = `${root}node_modules/.package-lock.json`;
  const lock = `${root}package-lock.json`;
  const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
  if (!stale) return;
  console.error('[circles] installing dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}

/** Newest modification time under the given paths (files or directories), ignoring build output. */
export function newestMtime(paths) {
  let newest = 0;
  const walk = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const name of readdirSync(p)) {
        if (name === 'node_modules' || name === '.next') continue;
        walk(`${p}/${name}`);
      }
    } else newest = Math.max(newest, s.mtimeMs);
  };
  for (const p of paths) walk(p);
  return newest;
}

/** Builds the web app when its production build is missing or older than its sources. */
export function ensureWebBuilt() {
  const buildId = `${root}apps/web/.next/BUILD_ID`;
  const sources = newestMtime([`${root}apps/web/src`, `${root}apps/web/next.config.ts`, `${root}apps/web/package.json`, `${root}packages/client/src`]);
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= sources) return;
  console.error('[circles] building the web app (next build, about half a minute)…');
  execSync('npm run build -w @circles/web', { cwd: root, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
}

if (import.meta.url === `file://${process.argv[1]}`) ensureInstalled();
