import { codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';
const CREATE = `mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id slug name visibility viewerRole memberCount owner { id handle } publicCenter { id kind name } } }`;

describe.each(modes)('community service (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    if (!run) return;
    p = await startTestPlatform(mode);
    for (const who of ['olga', 'mike', 'nina']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@example.com`, password: pw, handle: who, displayName: `${who[0]!.toUpperCase()}${who.slice(1)} Person`, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('creates a community with its Public Center, the creator as owner, and resolves the owner across subgraphs', async () => {
    const r = await p.gql(CREATE, { input: { name: 'Sourdough Club', slug: 'Sourdough-Club', description: 'Bread people' } }, { token: tokens.olga });
    expect(r.errors).toBeUndefined();
    expect(r.data.createCommunity).toMatchObject({
      slug: 'sourdough-club',
      visibility: 'LISTED',
      viewerRole: 'OWNER',
      memberCount: 1,
      owner: { id: ids.olga, handle: 'olga' }, // User.handle comes from the auth subgraph through the gateway
      publicCenter: { kind: 'PUBLIC_CENTER', name: 'Public Center' },
    });
    const again = await p.gql(CREATE, { input: { name: 'Copy', slug: 'sourdough-club' } }, { token: tokens.mike });
    expect(codeOf(again)).toBe('CONFLICT');
    expect(again.errors![0]!.extensions!.field).toBe('slug');
    expect(codeOf(await p.gql(CREATE, { input: { name: 'Bad', slug: 'no spaces!' } }, { token: tokens.mike }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(CREATE, { input: { name: 'Reserved', slug: 'admin' } }, { token: tokens.mike }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(CREATE, { input: { name: 'Anon', slug: 'anon-club' } }))).toBe('UNAUTHENTICATED');
  });

  it.runIf(run)('lists listed communities publicly and hides private ones from outsiders', async () => {
    await p.gql(CREATE, { input: { name: 'Secret Garden', slug: 'secret-garden', visibility: 'PRIVATE' } }, { token: tokens.olga });
    const dir = await p.gql(`{ communities { slug } }`);
    expect(dir.data.communities.map((c: { slug: string }) => c.slug)).toContain('sourdough-club');
    expect(dir.data.communities.map((c: { slug: string }) => c.slug)).not.toContain('secret-garden');
    expect((await p.gql(`{ community(slug: "secret-garden") { id } }`, {}, { token: tokens.mike })).data.community).toBeNull();
    expect((await p.gql(`{ community(slug: "secret-garden") { id viewerRole } }`, {}, { token: tokens.olga })).data.community.viewerRole).toBe('OWNER');
  });

  it.runIf(run)('lets people join and leave an open community; private ones refuse', async () => {
    const c = (await p.gql(`{ community(slug: "sourdough-club") { id } }`)).data.community;
    const joined = await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { viewerRole memberCount } }`, { id: c.id }, { token: tokens.mike });
    expect(joined.data.joinCommunity).toEqual({ viewerRole: 'MEMBER', memberCount: 2 });
    await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.nina });
    const mine = await p.gql(`{ myCommunities { slug } }`, {}, { token: tokens.mike });
    expect(mine.data.myCommunities).toEqual([{ slug: 'sourdough-club' }]);
    expect((await p.gql(`mutation($id: ID!) { leaveCommunity(id: $id) }`, { id: c.id }, { token: tokens.nina })).data.leaveCommunity).toBe(true);
    expect(codeOf(await p.gql(`mutation($id: ID!) { leaveCommunity(id: $id) }`, { id: c.id }, { token: tokens.olga }))).toBe('BAD_USER_INPUT');
    const secret = await p.gql(`{ community(slug: "secret-garden") { id } }`, {}, { token: tokens.olga });
    expect(codeOf(await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: secret.data.community.id }, { token: tokens.mike }))).toBe('FORBIDDEN');
  });

  it.runIf(run)('searches the member directory by name or handle (profiles projected from auth events)', async () => {
    const c = (await p.gql(`{ community(slug: "sourdough-club") { id } }`)).data.community;
    const q = `query($id: ID!, $s: String) { communityMembers(communityId: $id, search: $s) { role user { handle displayName } } }`;
    await expect
      .poll(async () => (await p.gql(q, { id: c.id, s: 'mike' })).data?.communityMembers?.map((m: { user: { handle: string } }) => m.user.handle), { timeout: 10_000 })
      .toEqual(['mike']);
    const byName = await p.gql(q, { id: c.id, s: 'olga per' });
    expect(byName.data.communityMembers).toEqual([{ role: 'OWNER', user: { handle: 'olga', displayName: 'Olga Person' } }]);
    expect((await p.gql(q, { id: c.id, s: '%' })).data.communityMembers).toEqual([]); // wildcards are literal
  });

  it.runIf(run)('only managers edit settings; every change is in the audit log', async () => {
    const c = (await p.gql(`{ community(slug: "sourdough-club") { id } }`)).data.community;
    const upd = `mutation($id: ID!, $i: UpdateCommunityInput!) { updateCommunity(id: $id, input: $i) { name description } }`;
    expect(codeOf(await p.gql(upd, { id: c.id, i: { name: 'Hijacked' } }, { token: tokens.mike }))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(upd, { id: c.id, i: { name: 'Hijacked' } }, { token: tokens.nina }))).toBe('FORBIDDEN');
    const ok = await p.gql(upd, { id: c.id, i: { name: 'Sourdough Society', description: 'Bread, mostly' } }, { token: tokens.olga, ip: '198.51.100.20' });
    expect(ok.data.updateCommunity).toEqual({ name: 'Sourdough Society', description: 'Bread, mostly' });
    const log = await p.gql(`query($id: ID!) { auditLog(communityId: $id) { sequence action actor { handle } before after ip } }`, { id: c.id }, { token: tokens.olga });
    expect(log.data.auditLog[0]).toMatchObject({ sequence: 2, action: 'community.update', actor: { handle: 'olga' }, ip: '198.51.100.20' });
    expect(JSON.parse(log.data.auditLog[0].before)).toEqual({ name: 'Sourdough Club', description: 'Bread people' });
    expect(codeOf(await p.gql(`query($id: ID!) { auditLog(communityId: $id) { id } }`, { id: c.id }, { token: tokens.mike }))).toBe('FORBIDDEN');
  });

  it.runIf(run)('verifies the hash-chained audit trail and names the first tampered record', async () => {
    const create = await p.gql(CREATE, { input: { name: 'Chain Gang', slug: 'chain-gang' } }, { token: tokens.nina });
    const id = create.data.createCommunity.id;
    for (const name of ['Chain Gang 2', 'Chain Gang 3', 'Chain Gang 4', 'Chain Gang 5']) {
      await p.gql(`mutation($id: ID!, $n: String!) { updateCommunity(id: $id, input: { name: $n }) { id } }`, { id, n: name }, { token: tokens.nina });
    }
    const verify = async () => (await p.gql(`query($id: ID!) { verifyAuditChain(communityId: $id) { valid recordsChecked firstInvalidSequence reason } }`, { id }, { token: tokens.nina })).data.verifyAuditChain;
    expect(await verify()).toMatchObject({ valid: true, recordsChecked: 5 });
    const db = p.infra.database!.db;
    const tamper = async (q: ReturnType<typeof sql>) => q.execute(db);

    // Editing a record's content: that record.
    await tamper(sql`update community.audit_log set after = '{"name":"Innocent"}' where community_id = ${id} and sequence = 3`);
    expect(await verify()).toMatchObject({ valid: false, firstInvalidSequence: 3 });
    await tamper(sql`update community.audit_log set after = '{"name":"Chain Gang 3"}' where community_id = ${id} and sequence = 3`);
    expect(await verify()).toMatchObject({ valid: true });

    // Editing the actor or time: that record.
    await tamper(sql`update community.audit_log set occurred_at = occurred_at - interval '1 day' where community_id = ${id} and sequence = 2`);
    expect(await verify()).toMatchObject({ valid: false, firstInvalidSequence: 2 });
    await tamper(sql`update community.audit_log set occurred_at = occurred_at + interval '1 day' where community_id = ${id} and sequence = 2`);
    expect(await verify()).toMatchObject({ valid: true });

    // Deleting a record in the middle, or the newest one: named as missing.
    await tamper(sql`delete from community.audit_log where community_id = ${id} and sequence = 5`);
    expect(await verify()).toMatchObject({ valid: false, firstInvalidSequence: 5, reason: 'record 5 is missing' });
    await tamper(sql`delete from community.audit_log where community_id = ${id} and sequence = 4`);
    expect(await verify()).toMatchObject({ valid: false, firstInvalidSequence: 4 });
  });
});
