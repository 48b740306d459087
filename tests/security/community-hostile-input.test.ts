import { codeOf, startTestPlatform, type TestPlatform } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Hostile input through every free-text field of Community: markup and script payloads are stored verbatim (the
 * web app renders text, never HTML — tests/e2e/hostile-input.browser.test.ts proves nothing runs), while oversized,
 * control-character and malformed values get a clear BAD_USER_INPUT naming the field — never a 500, never a
 * half-applied change.
 */
export const XSS_PAYLOADS = [
  '<script>window.__xss=1</script>',
  '<img src=x onerror="window.__xss=1">',
  '"><svg onload=window.__xss=1>',
  "'-alert(1)-'",
  '</script><script>window.__xss=1</script>',
  'javascript:window.__xss=1',
  '<a href="javascript:window.__xss=1">click</a>',
  '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>',
  '{{constructor.constructor(\'window.__xss=1\')()}}',
  '<body onload=window.__xss=1>',
  '<IMG SRC=JaVaScRiPt:window.__xss=1>',
  '<div style="background:url(javascript:window.__xss=1)">',
  '%3Cscript%3Ewindow.__xss=1%3C/script%3E',
  '&lt;script&gt;window.__xss=1&lt;/script&gt;',
  '\u202Eevil\u202C <b>bold</b>',
];

const pw = 'violet-kettle-sunrise-42';

describe('community inputs under hostile input', () => {
  let p: TestPlatform;
  let token: string;
  let communityId: string;

  beforeAll(async () => {
    p = await startTestPlatform('embedded');
    token = (await p.gql(`mutation { signUp(input: { email: "h@example.com", password: "${pw}", handle: "hostile", displayName: "H", delivery: BEARER }) { token } }`)).data.signUp.token;
    communityId = (await p.gql(`mutation { createCommunity(input: { name: "Hostile", slug: "hostile" }) { id } }`, {}, { token })).data.createCommunity.id;
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('stores markup payloads verbatim in every text field and returns them unchanged', async () => {
    for (const [i, payload] of XSS_PAYLOADS.entries()) {
      const name = payload.slice(0, 80).trim();
      const r = await p.gql(
        `mutation($c: ID!, $i: UpdateCommunityInput!) { updateCommunity(id: $c, input: $i) { name description category joinQuestions } }`,
        { c: communityId, i: { name: name.length >= 2 ? name : `${name}xx`, description: payload, category: payload.slice(0, 40), joinQuestions: [payload] } },
        { token },
      );
      expect(r.errors, `payload ${i}`).toBeUndefined();
      expect(r.data.updateCommunity.description).toBe(payload.trim());
      expect(r.data.updateCommunity.joinQuestions).toEqual([payload.trim()]);
      const circle = await p.gql(`mutation($c: ID!, $i: CreateCircleInput!) { createCircle(communityId: $c, input: $i) { name description } }`, { c: communityId, i: { name: `c${i} ${payload}`.slice(0, 80), description: payload } }, { token });
      expect(circle.errors, `circle payload ${i}`).toBeUndefined();
      expect(circle.data.createCircle.description).toBe(payload.trim());
      const role = await p.gql(`mutation($c: ID!, $n: String!) { createRole(communityId: $c, name: $n, permissions: ["post"]) { name } }`, { c: communityId, n: `r${i}${payload}`.slice(0, 40) }, { token });
      expect(role.errors, `role payload ${i}`).toBeUndefined();
    }
  });

  it('refuses oversized, control-character and malformed values with the field named, changing nothing', async () => {
    const before = (await p.gql(`{ community(slug: "hostile") { name description } }`)).data.community;
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x'.repeat(81) }, 'name'],
      [{ name: 'x'.repeat(100_000) }, 'name'],
      [{ description: 'y'.repeat(2001) }, 'description'],
      [{ name: 'nul\u0000byte' }, 'name'],
      [{ description: 'bell\u0007 and nul\u0000' }, 'description'],
      [{ category: 'z'.repeat(41) }, 'category'],
      [{ language: '<script>' }, 'language'],
      [{ joinQuestions: Array.from({ length: 6 }, (_, i) => `q${i}`) }, 'joinQuestions'],
      [{ joinQuestions: ['ok', ''] }, 'joinQuestions.1'],
      [{ joinQuestions: ['nul\u0000'] }, 'joinQuestions.0'],
    ];
    for (const [input, field] of cases) {
      const r = await p.gql(`mutation($c: ID!, $i: UpdateCommunityInput!) { updateCommunity(id: $c, input: $i) { id } }`, { c: communityId, i: { name: 'Changed name', ...input } }, { token });
      expect(codeOf(r), JSON.stringify(input).slice(0, 60)).toBe('BAD_USER_INPUT');
      expect(r.errors![0]!.extensions!.field, JSON.stringify(input).slice(0, 60)).toBe(field);
    }
    expect((await p.gql(`{ community(slug: "hostile") { name description } }`)).data.community).toEqual(before);

    const badCreates: [Record<string, unknown>, string][] = [
      [{ name: 'Ok name', slug: '../../etc' }, 'slug'],
      [{ name: 'Ok name', slug: 'a'.repeat(49) }, 'slug'],
      [{ name: 'Ok name', slug: 'émoji-🙂' }, 'slug'],
      [{ name: 'nul\u0000', slug: 'nul-name' }, 'name'],
    ];
    for (const [input, field] of badCreates) {
      const r = await p.gql(`mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id } }`, { i: input }, { token });
      expect(codeOf(r), JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(r.errors![0]!.extensions!.field).toBe(field);
    }
    const circle = await p.gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "nul\\u0000" }) { id } }`, { c: communityId }, { token });
    expect(codeOf(circle)).toBe('BAD_USER_INPUT');
    const role = await p.gql(`mutation($c: ID!) { createRole(communityId: $c, name: "nul\\u0000role", permissions: []) { id } }`, { c: communityId }, { token });
    expect(codeOf(role)).toBe('BAD_USER_INPUT');
    const ban = await p.gql(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "${'r'.repeat(600)}") { reason } }`, { c: communityId, u: '00000000-0000-4000-8000-000000000000' }, { token });
    expect(['BAD_USER_INPUT', 'NOT_FOUND']).toContain(codeOf(ban));
    // Ids that are not ids are refused cleanly rather than reaching the database as garbage.
    for (const id of ["' OR 1=1 --", 'x'.repeat(5000), '00000000-0000-4000-8000-00000000000g']) {
      const r = await p.gql(`query($c: ID!) { communityMembers(communityId: $c) { role } }`, { c: id }, { token });
      expect(['NOT_FOUND', 'BAD_USER_INPUT'], id.slice(0, 20)).toContain(codeOf(r));
    }
  });
});
