import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { distributedServicesAvailable, startTestPlatform, type TestPlatform } from '@circles/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = await distributedServicesAvailable();
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The audit chain can also be checked from the command line, against the configured database. */
describe.runIf(run)('npm run audit:verify', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform('distributed');
    const token = (
      await p.gql(`mutation { signUp(input: { email: "cli@example.com", password: "violet-kettle-sunrise-42", handle: "cli", displayName: "C", delivery: BEARER }) { token } }`)
    ).data.signUp.token;
    const id = (await p.gql(`mutation { createCommunity(input: { name: "Cli Club", slug: "cli-club" }) { id } }`, {}, { token })).data.createCommunity.id;
    await p.gql(`mutation($id: ID!) { updateCommunity(id: $id, input: { name: "Cli Club 2" }) { id } }`, { id }, { token });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const verify = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'services/community/src/cli/verify-audit.ts', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, DATABASE_URL: p.databaseUrl! },
      encoding: 'utf8',
    });

  it('reports intact chains and exits 0', () => {
    const r = verify('cli-club');
    expect(r.stdout).toContain('ok       cli-club: 2 records');
    expect(r.status).toBe(0);
  });

  it('names the altered record and exits 1', async () => {
    await sql`update community.audit_log set ip = '6.6.6.6' where sequence = 2`.execute(p.infra.database!.db);
    const r = verify();
    expect(r.stdout).toContain('TAMPERED cli-club: record 2 was altered');
    expect(r.status).toBe(1);
    expect(verify('no-such-club').status).toBe(2);
  });
});
