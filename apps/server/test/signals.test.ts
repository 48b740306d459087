import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serviceNames } from '@circles/platform';
import { spawnCircles, waitReady } from '@circles/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/embedded.ts';

/**
 * Ctrl-C in a terminal reaches the server twice (the terminal signals the whole process group, and `npm start`'s
 * launcher forwards it): that must still be one graceful shutdown, while a second Ctrl-C later forces the exit.
 */
describe('signals', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const start = async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'circles-signals-'));
    dirs.push(dataDir);
    const port = await freePort();
    const proc = spawnCircles({ DATA_DIR: dataDir, CIRCLES_ROLES: ['gateway', ...serviceNames].join(','), GATEWAY_PORT: String(port), HOST: '127.0.0.1' });
    await waitReady(`http://127.0.0.1:${port}/readyz`, proc);
    return proc;
  };

  it('treats a doubled Ctrl-C as one graceful shutdown', async () => {
    const proc = await start();
    proc.child.kill('SIGINT');
    proc.child.kill('SIGINT');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('"msg":"circles stopped"');
  });
});
