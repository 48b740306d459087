import { randomBytes } from 'node:crypto';
import { codeOf, startTestPlatform, type TestPlatform } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pw = 'violet-kettle-sunrise-42';

describe('gateway edge rules', () => {
  let p: TestPlatform;
  let cookie: string;
  beforeAll(async () => {
    p = await startTestPlatform('embedded', { graphqlMaxDepth: 4, graphqlMaxAliases: 20, graphqlMaxTokens: 1000, graphqlMaxCost: 200 });
    const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, { input: { email: 'csrf@example.com', password: pw, handle: 'csrf', displayName: 'C' } });
    cookie = r.setSessionCookie!;
  });
  afterAll(async () => {
    await p?.stop();
  });

  const post = (body: string, headers: Record<string, string>) => fetch(`${p.url}/graphql`, { method: 'POST', headers, body });
  const calls = () => p.host.gateway!.stats.subgraphCalls;

  describe('CSRF', () => {
    const mutation = JSON.stringify({ query: 'mutation { logOutEverywhereElse }' });

    it('refuses a cookie-authenticated mutation without the CSRF header, and nothing happens', async () => {
      const other = await p.gql(`mutation { logIn(input: { email: "csrf@example.com", password: "${pw}", delivery: BEARER }) { token } }`);
      const before = calls();
      const res = await post(mutation, { 'content-type': 'application/json', cookie: `circles_session=${cookie}` });
      expect(res.status).toBe(403);
      expect((await res.json()).errors[0].extensions.code).toBe('CSRF_REJECTED');
      expect(calls()).toBe(before);
      // The other session survived: the forged mutation never ran.
      expect((await p.gql(`{ me { handle } }`, {}, { token: other.data.logIn.token })).data.me.handle).toBe('csrf');
    });

    it('refuses a form-style (simple) cross-site request carrying the cookie', async () => {
      const res = await post(`query=${encodeURIComponent('mutation { logOut }')}`, {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `circles_session=${cookie}`,
        origin: 'https://evil.example',
      });
      expect(res.status).toBe(403);
    });

    it('refuses a foreign Origin even with the header', async () => {
      const res = await post(mutation, { 'content-type': 'application/json', cookie: `circles_session=${cookie}`, 'x-circles-csrf': '1', origin: 'https://evil.example' });
      expect(res.status).toBe(403);
    });

    it('refuses a cross-site form that would log the victim into another account (login CSRF)', async () => {
      const res = await post(`query=${encodeURIComponent(`mutation { logIn(input: { email: "csrf@example.com", password: "${pw}" }) { account { id } } }`)}`, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie()).toEqual([]);
      const plain = await post(JSON.stringify({ query: `mutation { logIn(input: { email: "csrf@example.com", password: "${pw}" }) { account { id } } }` }), { 'content-type': 'text/plain' });
      expect(plain.status).toBe(403);
    });

    it('grants CORS only to our own origin', async () => {
      const preflight = (origin: string) =>
        fetch(`${p.url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-circles-csrf' } });
      const evil = await preflight('https://evil.example');
      expect(evil.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
      expect(evil.headers.get('access-control-allow-origin')).not.toBe('*');
      const own = new URL(p.host.config.publicUrl).origin;
      const ours = await preflight(own);
      expect(ours.headers.get('access-control-allow-origin')).toBe(own);
      expect(ours.headers.get('access-control-allow-credentials')).toBe('true');
      // Same-origin is always fine, whatever host name the instance is reached by.
      const lan = await post(JSON.stringify({ query: '{ me { id } }' }), { 'content-type': 'application/json', origin: p.url });
      expect(lan.status).toBe(200);
      const anonymousFromEvil = await post(JSON.stringify({ query: '{ me { id } }' }), { 'content-type': 'application/json', origin: 'https://evil.example' });
      expect(anonymousFromEvil.status).toBe(403);
    });

    it('accepts our own pages and bearer-token apps', async () => {
      const own = await post(JSON.stringify({ query: '{ me { handle } }' }), { 'content-type': 'application/json', cookie: `circles_session=${cookie}`, 'x-circles-csrf': '1', origin: 'http://localhost:' + new URL(p.host.config.publicUrl).port });
      expect((await own.json()).data.me.handle).toBe('csrf');
      const app = await p.gql(`mutation { logIn(input: { email: "csrf@example.com", password: "${pw}", delivery: BEARER }) { token } }`);
      const bearer = await post(JSON.stringify({ query: '{ me { handle } }' }), { 'content-type': 'application/json', authorization: `Bearer ${app.data.logIn.token}` });
      expect((await bearer.json()).data.me.handle).toBe('csrf');
    });
  });

  describe('query bombs are rejected before any subgraph is called', () => {
    const expectRejected = async (query: string, code: string, on: TestPlatform = p) => {
      const before = on.host.gateway!.stats.subgraphCalls;
      const res = await fetch(`${on.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      const body = await res.json();
      expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body).slice(0, 300)).toBe(code);
      expect(body.data ?? null).toBeNull();
      expect(on.host.gateway!.stats.subgraphCalls).toBe(before);
    };

    it('alias bomb', async () => {
      await expectRejected(`{ ${Array.from({ length: 100 }, (_, i) => `a${i}: me { id }`).join(' ')} }`, 'TOO_MANY_ALIASES');
    });

    it('alias bomb hidden in fragments', async () => {
      const frag = `fragment F on Query { ${Array.from({ length: 15 }, (_, i) => `f${i}: me { id }`).join(' ')} }`;
      await expectRejected(`{ ...F x: me { id } ... on Query { ...F } } ${frag}`, 'TOO_MANY_ALIASES');
    });

    it('depth bomb', async () => {
      // Today's schema has no recursive type, so a tight limit stands in for a deep one (the rule itself is
      // exercised on a recursive schema in packages/gateway/test/limits.test.ts).
      const shallow = await startTestPlatform('embedded', { graphqlMaxDepth: 2 });
      try {
        await expectRejected(`{ myAccount { user { id } } }`, 'QUERY_TOO_DEEP', shallow);
        await expectRejected(`query { ...A } fragment A on Query { myAccount { ...B } } fragment B on Account { user { id } }`, 'QUERY_TOO_DEEP', shallow);
      } finally {
        await shallow.stop();
      }
    });

    it('token bomb', async () => {
      await expectRejected(`{ me { ${'id '.repeat(2000)} } }`, 'TOO_MANY_TOKENS');
    });

    it('cost bomb', async () => {
      await expectRejected(`{ ${Array.from({ length: 15 }, (_, i) => `m${i}: mailOutbox(limit: 200) { messages { id subject text to createdAt } }`).join(' ')} }`, 'QUERY_TOO_COSTLY');
    });

    it('still serves normal queries', async () => {
      const before = calls();
      const ok = await p.gql(`{ me { id } }`);
      expect(ok.errors).toBeUndefined();
      expect(calls()).toBeGreaterThan(before);
    });
  });

  describe('hostile input', () => {
    const corpus = [
      '<script>alert(1)</script>',
      '"><img src=x onerror=alert(1)>',
      "'; drop table auth.users; --",
      '{{constructor.constructor("alert(1)")()}}',
      'javascript:alert(1)',
      '😀'.repeat(16),
    ];

    it('stores markup and SQL-looking text verbatim as data (escaping is the renderer’s job) without harm', async () => {
      for (const [i, name] of corpus.entries()) {
        const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { account { user { displayName } } } }`, {
          input: { email: `hostile${i}@example.com`, password: pw, handle: `hostile${i}`, displayName: name },
        });
        expect(r.errors, name).toBeUndefined();
        expect(r.data.signUp.account.user.displayName).toBe(name.trim());
      }
      expect((await p.gql(`{ userByHandle(handle: "hostile2") { displayName } }`)).data.userByHandle.displayName).toBe(corpus[2]);
    });

    it('rejects oversized, control-character and malformed input with clear errors', async () => {
      const bad = [
        { email: `${'a'.repeat(300)}@example.com`, handle: 'big1', displayName: 'x', field: 'email' },
        { email: 'big2@example.com', handle: 'h'.repeat(100), displayName: 'x', field: 'handle' },
        { email: 'big3@example.com', handle: 'big3', displayName: 'x'.repeat(1000), field: 'displayName' },
        { email: 'big4@example.com', handle: 'big4', displayName: 'bell\u0007', field: 'displayName' },
        { email: 'big5@example.com', handle: 'big5', displayName: 'rtl\u202eoverride', field: 'displayName' },
      ];
      for (const b of bad) {
        const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, { input: { email: b.email, password: pw, handle: b.handle, displayName: b.displayName } });
        expect(codeOf(r), b.field).toBe('BAD_USER_INPUT');
        expect(r.errors![0]!.extensions!.field).toBe(b.field);
      }
      const hugePassword = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, { input: { email: 'big6@example.com', password: 'x'.repeat(100_000), handle: 'big6', displayName: 'x' } });
      expect(codeOf(hugePassword)).toBe('BAD_USER_INPUT');
    });

    it('answers malformed requests with 4xx, never 5xx', async () => {
      for (const body of ['{', 'null', '[]', '{"query": 42}', '{"query": "{ me { id }", "variables": "x"}', randomBytes(64).toString('latin1')]) {
        const res = await post(body, { 'content-type': 'application/json' });
        expect(res.status, body).toBeGreaterThanOrEqual(400);
        expect(res.status, body).toBeLessThan(500);
      }
    });
  });
});

describe('production mode', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform('embedded', {}, { CIRCLES_ENV: 'production', GATEWAY_SECRET: randomBytes(32).toString('hex') });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('refuses introspection', async () => {
    const r = await p.gql(`{ __schema { queryType { name } } }`);
    expect(r.data).toBeNull();
    expect(r.errors![0]!.message).toMatch(/introspection/i);
    const t = await p.gql(`{ __type(name: "User") { name } }`);
    expect(t.data?.__type ?? null).toBeNull();
  });

  it('serves no GraphiQL page', async () => {
    const res = await fetch(`${p.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await res.text()).not.toMatch(/graphiql/i);
  });

  it('masks unexpected errors and keeps domain error codes', async () => {
    const r = await p.gql(`mutation { logIn(input: { email: "nobody@example.com", password: "whatever-it-is-1" }) { token } }`);
    expect(codeOf(r)).toBe('INVALID_CREDENTIALS');
    expect(JSON.stringify(r.errors)).not.toMatch(/stack|at \w+ \(/);
  });
});
