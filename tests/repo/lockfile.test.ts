// The README's test command starts with `npm ci` on a fresh clone, and `npm ci` refuses a lock file that does not
// list every workspace package with its dependencies. A checkout that already has node_modules never runs it, so
// this test checks the same agreement directly.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readJson = (p: string) => JSON.parse(readFileSync(`${root}${p}`, 'utf8'));

type Manifest = { name: string; version?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

function workspaces(): { dir: string; manifest: Manifest }[] {
  const patterns: string[] = readJson('package.json').workspaces;
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) throw new Error(`unsupported workspace pattern ${pattern}`);
    const parent = pattern.slice(0, -2);
    return readdirSync(`${root}${parent}`)
      .filter((name) => existsSync(`${root}${parent}/${name}/package.json`))
      .map((name) => ({ dir: `${parent}/${name}`, manifest: readJson(`${parent}/${name}/package.json`) as Manifest }));
  });
}

describe('package-lock.json', () => {
  const lock = readJson('package-lock.json');
  const list = workspaces();

  it('finds the workspaces', () => {
    expect(list.length).toBeGreaterThan(5);
  });

  it.each(list.map((w) => [w.dir, w] as const))('records workspace %s with its dependencies', (_dir, { dir, manifest }) => {
    const entry = lock.packages[dir];
    expect(entry, `${dir} is missing from package-lock.json: run npm install`).toBeDefined();
    expect(entry.name).toBe(manifest.name);
    expect(entry.dependencies ?? {}).toEqual(manifest.dependencies ?? {});
    expect(entry.devDependencies ?? {}).toEqual(manifest.devDependencies ?? {});
    expect(lock.packages[`node_modules/${manifest.name}`]).toEqual({ resolved: dir, link: true });
  });

  it('records the root manifest’s dependencies', () => {
    const manifest = readJson('package.json') as Manifest;
    expect(lock.packages[''].dependencies ?? {}).toEqual(manifest.dependencies ?? {});
    expect(lock.packages[''].devDependencies ?? {}).toEqual(manifest.devDependencies ?? {});
  });
});
