// `npm test`: installs what is missing, builds the web app for the browser tests, type-checks, runs every test
// (vitest) and ends with one line: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ensureInstalled, ensureWebBuilt, root } from './bootstrap.mjs';

const resultsDir = `${root}.test-results`;
mkdirSync(resultsDir, { recursive: true });
let passed = 0;
let failed = 0;
const finish = () => {
  const line = `${passed} passed, ${failed} failed`;
  writeFileSync(`${resultsDir}/summary.txt`, line + '\n');
  console.log(`\n${line}`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
};

ensureInstalled();
try {
  ensureWebBuilt();
} catch {
  console.error('[circles] the web app failed to build');
  failed++;
}

// Type checks count as checks: a type error fails the run like a failing test.
for (const project of ['tsconfig.json', 'apps/web/tsconfig.json', 'packages/client/tsconfig.json']) {
  if (!existsSync(`${root}${project}`)) continue;
  const r = spawnSync('npx', ['tsc', '--noEmit', '-p', project], { cwd: root, stdio: 'inherit' });
  if (r.status === 0) passed++;
  else {
    console.error(`[circles] type check failed: ${project}`);
    failed++;
  }
}

const json = `${resultsDir}/vitest.json`;
rmSync(json, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...process.argv.slice(2)];
spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env } });
if (existsSync(json)) {
  const report = JSON.parse(readFileSync(json, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  // A file that failed to load has no tests; count it so it cannot pass silently.
  failed += report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
} else {
  console.error('[circles] vitest produced no report');
  failed++;
}
finish();
