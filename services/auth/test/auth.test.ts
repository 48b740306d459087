import { codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform, tokenFromMail } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const canRunDistributed = await distributedServicesAvailable();

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { token expiresAt account { id email emailVerified isInstanceAdmin currentSessionId user { id handle displayName } } } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { token account { id currentSessionId } } }`;
const ME = `{ me { id handle } myAccount { emailVerified isInstanceAdmin currentSessionId } }`;
const SESSIONS = `{ mySessions { id current ip userAgent } }`;

const pw = 'violet-kettle-sunrise-42';

// The same behaviour must hold on the embedded default and on PostgreSQL + Redis.
describe.each(modes)('auth service (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  beforeAll(async () => {
    if (run) p = await startTestPlatform(mode);
  });
  afterAll(async () => {
    await p?.stop();
  });

  const signUp = (email: string, handle: string, extra: Record<string, unknown> = {}) =>
    p.gql(SIGN_UP, { input: { email, password: pw, handle, displayName: handle.toUpperCase(), delivery: 'BEARER', ...extra } });

  it.runIf(run)('makes the first account the instance admin, later ones not', async () => {
    const first = await signUp('owner@example.com', 'owner');
    expect(first.errors).toBeUndefined();
    expect(first.data.signUp.account).toMatchObject({ email: 'owner@example.com', emailVerified: false, isInstanceAdmin: true, user: { handle: 'owner', displayName: 'OWNER' } });
    expect(first.data.signUp.token.length).toBeGreaterThanOrEqual(43); // 256 bits, base64url
    const second = await signUp('member@example.com', 'member');
    expect(second.data.signUp.account.isInstanceAdmin).toBe(false);
  });

  it.runIf(run)('rejects duplicate emails and handles case-insensitively, naming the field', async () => {
    const dupEmail = await signUp('OWNER@example.com', 'someoneelse');
    expect(codeOf(dupEmail)).toBe('CONFLICT');
    expect(dupEmail.errors![0]!.extensions!.field).toBe('email');
    const dupHandle = await signUp('new@example.com', 'Owner');
    expect(codeOf(dupHandle)).toBe('CONFLICT');
    expect(dupHandle.errors![0]!.extensions!.field).toBe('handle');
  });

  it.runIf(run)('rejects common and breached passwords and bad input with clear errors', async () => {
    for (const bad of ['password1', 'qwertyuiop', 'iloveyou', 'short']) {
      const r = await p.gql(SIGN_UP, { input: { email: 'x@example.com', password: bad, handle: 'xuser', displayName: 'X' } });
      expect(codeOf(r), bad).toBe('WEAK_PASSWORD');
    }
    const badEmail = await signUp('not-an-email', 'xuser');
    expect(codeOf(badEmail)).toBe('BAD_USER_INPUT');
    expect(badEmail.errors![0]!.extensions!.field).toBe('email');
    const badHandle = await signUp('h@example.com', 'no spaces!');
    expect(badHandle.errors![0]!.message).toMatch(/letters, digits and underscores/);
  });

  it.runIf(run)('verifies email with a single-use link', async () => {
    const token = await tokenFromMail(p, 'member@example.com', '/verify-email');
    const ok = await p.gql(`mutation($t: String!) { verifyEmail(token: $t) }`, { t: token });
    expect(ok.data).toEqual({ verifyEmail: true });
    const again = await p.gql(`mutation($t: String!) { verifyEmail(token: $t) }`, { t: token });
    expect(codeOf(again)).toBe('INVALID_TOKEN');
    const login = await p.gql(LOG_IN, { input: { email: 'member@example.com', password: pw, delivery: 'BEARER' } });
    const me = await p.gql(ME, {}, { token: login.data.logIn.token });
    expect(me.data.myAccount.emailVerified).toBe(true);
  });

  it.runIf(run)('logs in with a new token each time, lists sessions and logs out', async () => {
    const a = await p.gql(LOG_IN, { input: { email: 'member@example.com', password: pw, delivery: 'BEARER' } }, { ip: '10.1.0.1' });
    const b = await p.gql(LOG_IN, { input: { email: 'Member@Example.com', password: pw, delivery: 'BEARER' } }, { ip: '10.1.0.2' });
    expect(a.data.logIn.token).not.toBe(b.data.logIn.token);
    const sessions = await p.gql(SESSIONS, {}, { token: a.data.logIn.token });
    const mine = sessions.data.mySessions.find((s: { current: boolean }) => s.current);
    expect(mine.id).toBe(a.data.logIn.account.currentSessionId);
    expect(sessions.data.mySessions.map((s: { id: string }) => s.id)).toContain(b.data.logIn.account.currentSessionId);

    const out = await p.gql(`mutation { logOut }`, {}, { token: a.data.logIn.token });
    expect(out.data).toEqual({ logOut: true });
    expect((await p.gql(ME, {}, { token: a.data.logIn.token })).data.me).toBeNull();
    expect((await p.gql(ME, {}, { token: b.data.logIn.token })).data.me.handle).toBe('member');
  });

  it.runIf(run)('"log out everywhere else" keeps only the current session; revoking one ends it', async () => {
    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push((await p.gql(LOG_IN, { input: { email: 'owner@example.com', password: pw, delivery: 'BEARER' } })).data.logIn);
    const revoke = await p.gql(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: tokens[1].account.currentSessionId }, { token: tokens[0].token });
    expect(revoke.data).toEqual({ revokeSession: true });
    expect((await p.gql(ME, {}, { token: tokens[1].token })).data.me).toBeNull();
    const ended = await p.gql(`mutation { logOutEverywhereElse }`, {}, { token: tokens[0].token });
    expect(ended.data.logOutEverywhereElse).toBeGreaterThanOrEqual(2);
    expect((await p.gql(ME, {}, { token: tokens[2].token })).data.me).toBeNull();
    expect((await p.gql(ME, {}, { token: tokens[0].token })).data.me.handle).toBe('owner');
    const list = await p.gql(SESSIONS, {}, { token: tokens[0].token });
    expect(list.data.mySessions).toHaveLength(1);
  });

  it.runIf(run)('cannot revoke another account\'s session', async () => {
    const owner = (await p.gql(LOG_IN, { input: { email: 'owner@example.com', password: pw, delivery: 'BEARER' } })).data.logIn;
    const member = (await p.gql(LOG_IN, { input: { email: 'member@example.com', password: pw, delivery: 'BEARER' } })).data.logIn;
    const r = await p.gql(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: owner.account.currentSessionId }, { token: member.token });
    expect(r.data).toEqual({ revokeSession: false });
    expect((await p.gql(ME, {}, { token: owner.token })).data.me.handle).toBe('owner');
  });

  it.runIf(run)('changing the password ends every session and issues a new one', async () => {
    await signUp('changer@example.com', 'changer');
    const s1 = (await p.gql(LOG_IN, { input: { email: 'changer@example.com', password: pw, delivery: 'BEARER' } })).data.logIn.token;
    const s2 = (await p.gql(LOG_IN, { input: { email: 'changer@example.com', password: pw, delivery: 'BEARER' } })).data.logIn.token;
    const wrong = await p.gql(`mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token } }`, { i: { currentPassword: 'nope-nope-nope', newPassword: 'another-fine-phrase-7' } }, { token: s1 });
    expect(codeOf(wrong)).toBe('INVALID_CREDENTIALS');
    const changed = await p.gql(`mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token } }`, { i: { currentPassword: pw, newPassword: 'another-fine-phrase-7' } }, { token: s1 });
    const fresh = changed.data.changePassword.token;
    expect(fresh).toBeTruthy();
    expect((await p.gql(ME, {}, { token: s1 })).data.me).toBeNull();
    expect((await p.gql(ME, {}, { token: s2 })).data.me).toBeNull();
    expect((await p.gql(ME, {}, { token: fresh })).data.me.handle).toBe('changer');
    expect(codeOf(await p.gql(LOG_IN, { input: { email: 'changer@example.com', password: pw } }))).toBe('INVALID_CREDENTIALS');
    expect((await p.mail()).some((m) => m.to === 'changer@example.com' && /password was changed/.test(m.subject))).toBe(true);
  });

  it.runIf(run)('keeps a sign-in history past the sessions: how, from where, newest first; only your own', async () => {
    const HISTORY = `query($n: Int) { mySignIns(first: $n) { id method ip userAgent at } }`;
    const first = (await signUp('historian@example.com', 'historian')).data.signUp.token;
    const phone = (await p.gql(LOG_IN, { input: { email: 'historian@example.com', password: pw, delivery: 'BEARER' } })).data.logIn.token;
    expect((await p.gql(`mutation { logOut }`, {}, { token: phone })).data.logOut).toBe(true);
    const wrong = await p.gql(LOG_IN, { input: { email: 'historian@example.com', password: 'not-the-password-9' } });
    expect(codeOf(wrong)).toBe('INVALID_CREDENTIALS');
    const changed = (await p.gql(`mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token } }`, { i: { currentPassword: pw, newPassword: 'another-fine-phrase-7' } }, { token: first })).data
      .changePassword.token;
    // Every session but the last has ended; the history still has each sign-in, and no failed attempt.
    expect((await p.gql(SESSIONS, {}, { token: changed })).data.mySessions).toHaveLength(1);
    const history = (await p.gql(HISTORY, {}, { token: changed })).data.mySignIns;
    expect(history.map((h: { method: string }) => h.method)).toEqual(['PASSWORD_CHANGE', 'PASSWORD', 'SIGN_UP']);
    for (const h of history) expect(h.ip).toMatch(/127\.0\.0\.1|::1/);
    expect(new Date(history[0].at).getTime()).toBeGreaterThanOrEqual(new Date(history[2].at).getTime());
    expect((await p.gql(HISTORY, { n: 1 }, { token: changed })).data.mySignIns).toEqual([history[0]]);
    // Someone else sees only their own; nobody anonymous; a silly page size is refused naming the field.
    const other = (await signUp('bystander@example.com', 'bystander')).data.signUp.token;
    expect((await p.gql(HISTORY, {}, { token: other })).data.mySignIns.map((h: { method: string }) => h.method)).toEqual(['SIGN_UP']);
    expect(codeOf(await p.gql(HISTORY, {}))).toBe('UNAUTHENTICATED');
    for (const n of [0, 101, -5]) {
      const bad = await p.gql(HISTORY, { n }, { token: changed });
      expect(codeOf(bad)).toBe('BAD_USER_INPUT');
      expect(bad.errors![0]!.extensions!.field).toBe('first');
    }
    // Other services (payments, for dispute evidence) read it through the auth API.
    const api = p.host.apis!.auth;
    const me = (await p.gql(ME, {}, { token: changed })).data.me.id;
    expect((await api.signInsOf({ userId: me })).map((h) => h.method)).toEqual(['password_change', 'password', 'sign_up']);
    expect(await api.signInsOf({ userId: 'not-a-uuid' })).toEqual([]);
  });

  it.runIf(run)('resets a password by single-use link; the reply never reveals whether an account exists', async () => {
    const known = await p.gql(`mutation { requestPasswordReset(email: "member@example.com") }`);
    const unknown = await p.gql(`mutation { requestPasswordReset(email: "nobody@example.com") }`);
    expect(known.data).toEqual(unknown.data);
    expect((await p.mail()).some((m) => m.to === 'nobody@example.com')).toBe(false);
    const live = (await p.gql(LOG_IN, { input: { email: 'member@example.com', password: pw, delivery: 'BEARER' } })).data.logIn.token;
    const token = await tokenFromMail(p, 'member@example.com', '/reset-password');
    const weak = await p.gql(`mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }`, { i: { token, newPassword: '12345678' } });
    expect(codeOf(weak)).toBe('WEAK_PASSWORD');
    // A rejected password loses nothing: the same link still works for a better one.
    const ok = await p.gql(`mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }`, { i: { token, newPassword: 'brand-new-phrase-99' } });
    expect(ok.data).toEqual({ resetPassword: true });
    expect((await p.gql(ME, {}, { token: live })).data.me).toBeNull(); // all sessions ended
    const again = await p.gql(`mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }`, { i: { token, newPassword: 'yet-another-phrase-1' } });
    expect(codeOf(again)).toBe('INVALID_TOKEN');
    const login = await p.gql(LOG_IN, { input: { email: 'member@example.com', password: 'brand-new-phrase-99' } });
    expect(login.errors).toBeUndefined();
  });

  it.runIf(run)('only the instance admin reads the mail outbox', async () => {
    const owner = (await p.gql(LOG_IN, { input: { email: 'owner@example.com', password: pw, delivery: 'BEARER' } })).data.logIn.token;
    const member = (await p.gql(LOG_IN, { input: { email: 'changer@example.com', password: 'another-fine-phrase-7', delivery: 'BEARER' } })).data.logIn.token;
    const q = `{ mailOutbox(limit: 5) { delivery messages { to subject } } }`;
    const asOwner = await p.gql(q, {}, { token: owner });
    expect(asOwner.data.mailOutbox.delivery).toBe('outbox');
    expect(asOwner.data.mailOutbox.messages.length).toBe(5);
    expect(codeOf(await p.gql(q, {}, { token: member }))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(q))).toBe('UNAUTHENTICATED');
  });

  it.runIf(run)('makes exactly one instance admin when the first sign-ups race', async () => {
    const fresh = await startTestPlatform(mode);
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => fresh.gql(SIGN_UP, { input: { email: `racer${i}@example.com`, password: pw, handle: `racer${i}`, displayName: 'R', delivery: 'BEARER' } })),
      );
      expect(results.every((r) => !r.errors)).toBe(true);
      expect(results.filter((r) => r.data.signUp.account.isInstanceAdmin)).toHaveLength(1);
    } finally {
      await fresh.stop();
    }
  });

  it.runIf(run)('changes handle and display name: validated, unique, versioned, announced; bad input changes nothing', async () => {
    const UPDATE = `mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id user { handle displayName } } }`;
    const token = (await signUp('renamer@example.com', 'renamer')).data.signUp.token;
    await signUp('holder@example.com', 'holder');
    const seen: { handle: string; displayName: string; version: number }[] = [];
    const sub = await p.infra.eventLog.consume({
      consumer: `profile-test-${mode}-${Date.now()}`,
      topics: ['auth.user.profile_changed'],
      handler: async (e) => void seen.push(e.payload as (typeof seen)[number]),
    });
    try {
      const renamed = await p.gql(UPDATE, { i: { handle: 'Re_Named', displayName: '  Rena Med  ' } }, { token });
      expect(renamed.errors).toBeUndefined();
      expect(renamed.data.updateProfile.user).toEqual({ handle: 'Re_Named', displayName: 'Rena Med' });
      expect((await p.gql(`{ userByHandle(handle: "re_named") { displayName } }`)).data.userByHandle).toEqual({ displayName: 'Rena Med' });
      expect((await p.gql(`{ userByHandle(handle: "renamer") { id } }`)).data.userByHandle).toBeNull();
      // Only the name: the handle stays.
      expect((await p.gql(UPDATE, { i: { displayName: 'Rena' } }, { token })).data.updateProfile.user).toEqual({ handle: 'Re_Named', displayName: 'Rena' });
      // Taken (ignoring case), malformed, or empty: refused naming the field, and nothing changes.
      const refusals: [Record<string, string>, string, string][] = [
        [{ handle: 'HOLDER' }, 'CONFLICT', 'handle'],
        [{ handle: 'no spaces' }, 'BAD_USER_INPUT', 'handle'],
        [{ handle: 'ab' }, 'BAD_USER_INPUT', 'handle'],
        [{ displayName: '   ' }, 'BAD_USER_INPUT', 'displayName'],
        [{ displayName: 'x'.repeat(65) }, 'BAD_USER_INPUT', 'displayName'],
        [{ displayName: 'evil\u202ename' }, 'BAD_USER_INPUT', 'displayName'],
      ];
      for (const [i, code, field] of refusals) {
        const r = await p.gql(UPDATE, { i }, { token });
        expect(codeOf(r), JSON.stringify(i)).toBe(code);
        expect(r.errors![0]!.extensions!.field).toBe(field);
      }
      expect((await p.gql(ME, {}, { token })).data.me.handle).toBe('Re_Named');
      expect(codeOf(await p.gql(UPDATE, { i: { displayName: 'Anon' } }))).toBe('UNAUTHENTICATED');
      // The same values again change nothing and announce nothing.
      await p.gql(UPDATE, { i: { handle: 'Re_Named', displayName: 'Rena' } }, { token });
      // The old handle is free for someone else.
      expect((await signUp('newcomer@example.com', 'renamer')).errors).toBeUndefined();
      await expect.poll(() => seen.length).toBe(2);
      expect(seen.map((e) => [e.handle, e.displayName, e.version])).toEqual([
        ['Re_Named', 'Rena Med', 1],
        ['Re_Named', 'Rena', 2],
      ]);
    } finally {
      await sub.stop();
    }
  });

  it.runIf(run)('publishes account events through the outbox to the event log', async () => {
    const seen: string[] = [];
    const sub = await p.infra.eventLog.consume({
      consumer: `test-${mode}`,
      topics: ['auth.user.registered', 'auth.user.email_verified'],
      handler: async (e) => void seen.push(`${e.topic}:${(e.payload as { handle?: string }).handle ?? ''}`),
    });
    await signUp('evented@example.com', 'evented');
    await expect.poll(() => seen, { timeout: 10_000 }).toContain('auth.user.registered:evented');
    expect(seen).toContain('auth.user.registered:owner');
    await sub.stop();
  });
});
