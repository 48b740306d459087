import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serviceNames } from '@circles/platform';
import { gqlClient, waitReady } from '@circles/testing';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM build script without types
import { buildServer } from '../../../scripts/build-server.mjs';
import { freePort } from '../src/embedded.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** `npm start` runs the esbuild bundle, not the TypeScript sources: prove that artifact builds and works. */
describe('server bundle', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'circles-bundle-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('builds, starts on the embedded default, serves a sign-up and stops cleanly on SIGTERM', async () => {
    await buildServer();
    const port = await freePort();
    const child = spawn(process.execPath, ['--enable-source-maps', 'apps/server/dist/main.mjs'], {
      cwd: root,
      env: { PATH: process.env.PATH, DATA_DIR: dataDir, CIRCLES_ROLES: ['gateway', ...serviceNames].join(','), GATEWAY_PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitReady(`http://127.0.0.1:${port}/readyz`, { child, output: () => out });
      const r = await gqlClient(`http://127.0.0.1:${port}`)(`mutation { signUp(input: { email: "b@example.com", password: "violet-kettle-sunrise-42", handle: "bundled", displayName: "B" }) { account { isInstanceAdmin user { handle } } } }`);
      expect(r.errors, out).toBeUndefined();
      expect(r.data.signUp.account).toEqual({ isInstanceAdmin: true, user: { handle: 'bundled' } });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"circles stopped"');
  });
});
