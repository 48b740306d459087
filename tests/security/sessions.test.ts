import { readFileSync } from 'node:fs';
import path from 'node:path';
import { codeOf, startTestPlatform, type TestPlatform } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pw = 'violet-kettle-sunrise-42';
const LOG_IN = `mutation { logIn(input: { email: "sam@example.com", password: "${pw}" }) { account { currentSessionId } } }`;

describe('session security', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform('embedded');
    await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, { input: { email: 'sam@example.com', password: pw, handle: 'sam', displayName: 'Sam' } });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('sets the session as an HttpOnly, SameSite cookie and never returns the token in the body', async () => {
    const r = await p.gql(LOG_IN);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('circles_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(JSON.stringify(r.data)).not.toContain(r.setSessionCookie!);
    expect(Buffer.from(r.setSessionCookie!, 'base64url').length).toBeGreaterThanOrEqual(16); // >= 128 bits
  });

  it('rotates the token on login: the session a client held before ends', async () => {
    const first = await p.gql(LOG_IN);
    const second = await p.gql(LOG_IN, {}, { cookie: first.setSessionCookie });
    expect(second.setSessionCookie).not.toBe(first.setSessionCookie);
    expect((await p.gql(`{ me { id } }`, {}, { cookie: first.setSessionCookie })).data.me).toBeNull();
    expect((await p.gql(`{ me { handle } }`, {}, { cookie: second.setSessionCookie })).data.me.handle).toBe('sam');
  });

  it('stores only token hashes', async () => {
    const r = await p.gql(LOG_IN);
    const stored = readFileSync(path.join(p.host.config.dataDir, 'sessions.json'), 'utf8');
    expect(stored).toContain(r.data.logIn.account.currentSessionId);
    expect(stored).not.toContain(r.setSessionCookie!);
  });

  it('refuses a revoked or logged-out token at once and clears the stale cookie', async () => {
    const a = await p.gql(LOG_IN);
    await p.gql(`mutation { logOut }`, {}, { cookie: a.setSessionCookie });
    const after = await p.gql(`{ me { id } }`, {}, { cookie: a.setSessionCookie });
    expect(after.data.me).toBeNull();
    expect(after.setSessionCookie).toBe('');
    expect(codeOf(await p.gql(`{ mySessions { id } }`, {}, { cookie: a.setSessionCookie }))).toBe('UNAUTHENTICATED');
  });

  it('ignores garbage and oversized tokens', async () => {
    for (const token of ['', 'x', 'a'.repeat(10_000), '../../etc/passwd', '%00%01', 'Bearer Bearer']) {
      const r = await p.gql(`{ me { id } }`, {}, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(200);
      expect(r.data.me).toBeNull();
    }
  });
});
