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
      .poll(async () => (await p.gql(q, { id: c.id, s: 'mike' }, { token: tokens.olga })).data?.communityMembers?.map((m: { user: { handle: string } }) => m.user.handle), { timeout: 10_000 })
      .toEqual(['mike']);
    const byName = await p.gql(q, { id: c.id, s: 'olga per' }, { token: tokens.olga });
    expect(byName.data.communityMembers).toEqual([{ role: 'OWNER', user: { handle: 'olga', displayName: 'Olga Person' } }]);
    expect((await p.gql(q, { id: c.id, s: '%' }, { token: tokens.olga })).data.communityMembers).toEqual([]); // wildcards are literal
    expect(codeOf(await p.gql(q, { id: c.id, s: null }))).toBe('FORBIDDEN'); // not for outsiders, even when listed
    expect(codeOf(await p.gql(q, { id: c.id, s: null }, { token: tokens.nina }))).toBe('FORBIDDEN');
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

  it.runIf(run)('manages roles by rank: nobody manages their equals or grants their own rank', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Rank Hall', slug: 'rank-hall' } }, { token: tokens.olga })).data.createCommunity;
    for (const who of ['mike', 'nina']) await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens[who] });
    const setRole = (as: string, userId: string, role: string) =>
      p.gql(`mutation($c: ID!, $u: ID!, $r: CommunityRole!) { setMemberRole(communityId: $c, userId: $u, role: $r) { role user { handle } } }`, { c: c.id, u: userId, r: role }, { token: tokens[as] });
    expect((await setRole('olga', ids.mike!, 'ADMIN')).data.setMemberRole).toEqual({ role: 'ADMIN', user: { handle: 'mike' } });
    expect(codeOf(await setRole('nina', ids.mike!, 'MEMBER'))).toBe('FORBIDDEN'); // members cannot manage roles
    expect(codeOf(await setRole('mike', ids.nina!, 'ADMIN'))).toBe('FORBIDDEN'); // cannot grant own rank
    expect((await setRole('mike', ids.nina!, 'MODERATOR')).data.setMemberRole.role).toBe('MODERATOR');
    expect(codeOf(await setRole('mike', ids.olga!, 'MEMBER'))).toBe('FORBIDDEN'); // cannot touch the owner
    expect(codeOf(await setRole('olga', ids.mike!, 'OWNER'))).toBe('BAD_USER_INPUT'); // ownership moves by transfer only
    const log = await p.gql(`query($id: ID!) { auditLog(communityId: $id, action: "member.role") { after actor { handle } } }`, { id: c.id }, { token: tokens.olga });
    expect(log.data.auditLog.map((r: { after: string }) => JSON.parse(r.after).role)).toEqual(['moderator', 'admin']);
  });

  it.runIf(run)('times out, removes, bans (lifted on expiry) and unbans members', async () => {
    const c = (await p.gql(`{ community(slug: "rank-hall") { id } }`)).data.community;
    const members = async () =>
      (await p.gql(`query($id: ID!) { communityMembers(communityId: $id) { role timedOutUntil user { handle } } }`, { id: c.id }, { token: tokens.olga })).data.communityMembers;
    // nina (moderator) times out... nobody above her; mike (admin) times out nina.
    const to = await p.gql(`mutation($c: ID!, $u: ID!) { timeoutMember(communityId: $c, userId: $u, durationSeconds: 600, reason: "cool down") { timedOutUntil } }`, { c: c.id, u: ids.nina }, { token: tokens.mike });
    expect(to.errors).toBeUndefined();
    expect(new Date(to.data.timeoutMember.timedOutUntil).getTime()).toBeGreaterThan(Date.now() + 500_000);
    expect(codeOf(await p.gql(`mutation($c: ID!, $u: ID!) { removeMember(communityId: $c, userId: $u) }`, { c: c.id, u: ids.mike }, { token: tokens.nina }))).toBe('FORBIDDEN');

    const ban = await p.gql(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "spam", durationSeconds: 3600) { reason expiresAt bannedBy { handle } } }`, { c: c.id, u: ids.nina }, { token: tokens.mike });
    expect(ban.data.banMember).toMatchObject({ reason: 'spam', bannedBy: { handle: 'mike' } });
    expect((await members()).map((m: { user: { handle: string } }) => m.user.handle)).not.toContain('nina');
    const rejoin = await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.nina });
    expect(codeOf(rejoin)).toBe('FORBIDDEN');
    expect(rejoin.errors![0]!.extensions!.bannedUntil).toBe(ban.data.banMember.expiresAt);
    // A ban lifts by itself when it expires.
    await sql`update community.bans set expires_at = now() - interval '1 second' where user_id = ${ids.nina}`.execute(p.infra.database!.db);
    expect((await p.gql(`query($id: ID!) { communityBans(communityId: $id) { reason } }`, { id: c.id }, { token: tokens.olga })).data.communityBans).toEqual([]);
    expect((await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { viewerRole } }`, { id: c.id }, { token: tokens.nina })).data.joinCommunity.viewerRole).toBe('MEMBER');

    // Permanent ban, then unban.
    await p.gql(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "again") { expiresAt } }`, { c: c.id, u: ids.nina }, { token: tokens.olga });
    expect(codeOf(await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.nina }))).toBe('FORBIDDEN');
    expect((await p.gql(`mutation($c: ID!, $u: ID!) { unbanMember(communityId: $c, userId: $u) }`, { c: c.id, u: ids.nina }, { token: tokens.olga })).data.unbanMember).toBe(true);
    expect((await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { viewerRole } }`, { id: c.id }, { token: tokens.nina })).errors).toBeUndefined();
    const removed = await p.gql(`mutation($c: ID!, $u: ID!) { removeMember(communityId: $c, userId: $u, reason: "bye") }`, { c: c.id, u: ids.nina }, { token: tokens.mike });
    expect(removed.data.removeMember).toBe(true);
    const actions = (await p.gql(`query($id: ID!) { auditLog(communityId: $id) { action } }`, { id: c.id }, { token: tokens.olga })).data.auditLog.map((r: { action: string }) => r.action);
    expect(actions.slice(0, 5)).toEqual(['member.remove', 'member.unban', 'member.ban', 'member.ban', 'member.timeout']);
    expect((await p.gql(`query($id: ID!) { verifyAuditChain(communityId: $id) { valid } }`, { id: c.id }, { token: tokens.olga })).data.verifyAuditChain.valid).toBe(true);
  });

  it.runIf(run)('transfers ownership only with the address typed to confirm', async () => {
    const c = (await p.gql(`{ community(slug: "rank-hall") { id } }`)).data.community;
    const transfer = (confirm: string, as = 'olga') =>
      p.gql(`mutation($c: ID!, $u: ID!, $s: String!) { transferOwnership(communityId: $c, userId: $u, confirmSlug: $s) { owner { handle } viewerRole } }`, { c: c.id, u: ids.mike, s: confirm }, { token: tokens[as] });
    expect(codeOf(await transfer('rank-hal'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await transfer('rank-hall', 'mike'))).toBe('FORBIDDEN'); // admins are not owners
    const ok = await transfer('Rank-Hall');
    expect(ok.data.transferOwnership).toEqual({ owner: { handle: 'mike' }, viewerRole: 'ADMIN' });
    expect((await p.gql(`mutation($id: ID!) { leaveCommunity(id: $id) }`, { id: c.id }, { token: tokens.olga })).data.leaveCommunity).toBe(true);
  });

  it.runIf(run)('answers other services through its typed API, cached, and invalidated by bans, timeouts and role changes', async () => {
    const api = p.host.apis!.community;
    const c = (await p.gql(CREATE, { input: { name: 'Api Town', slug: 'api-town' } }, { token: tokens.olga })).data.createCommunity;
    await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.nina });
    const can = (userId: string, permission: string) => api.can({ userId, permission, communityId: c.id });
    expect(await can(ids.nina!, 'post')).toBe(true);
    expect(await can(ids.nina!, 'manage_members')).toBe(false);
    expect(await can(ids.mike!, 'post')).toBe(false); // not a member
    await expect(can(ids.nina!, 'fly')).rejects.toThrow(/Unknown permission/);

    // The answer is cached: a change made behind the service's back is not seen…
    const db = p.infra.database!.db;
    await sql`update community.members set role = 'admin' where community_id = ${c.id} and user_id = ${ids.nina}`.execute(db);
    expect(await can(ids.nina!, 'manage_members')).toBe(false);
    await sql`update community.members set role = 'member' where community_id = ${c.id} and user_id = ${ids.nina}`.execute(db);

    // …but every change through the service is seen by the very next call.
    await p.gql(`mutation($c: ID!, $u: ID!) { timeoutMember(communityId: $c, userId: $u, durationSeconds: 300) { role } }`, { c: c.id, u: ids.nina }, { token: tokens.olga });
    expect(await can(ids.nina!, 'post')).toBe(false);
    expect(await can(ids.nina!, 'invite')).toBe(true); // a timeout stops taking part, not membership
    await p.gql(`mutation($c: ID!, $u: ID!) { setMemberRole(communityId: $c, userId: $u, role: MODERATOR) { role } }`, { c: c.id, u: ids.nina }, { token: tokens.olga });
    expect(await can(ids.nina!, 'moderate_content')).toBe(true);
    // Taking the role away is refused on the very next call too.
    await p.gql(`mutation($c: ID!, $u: ID!) { setMemberRole(communityId: $c, userId: $u, role: MEMBER) { role } }`, { c: c.id, u: ids.nina }, { token: tokens.olga });
    expect(await can(ids.nina!, 'moderate_content')).toBe(false);
    await p.gql(`mutation($c: ID!, $u: ID!) { setMemberRole(communityId: $c, userId: $u, role: MODERATOR) { role } }`, { c: c.id, u: ids.nina }, { token: tokens.olga });
    expect(await can(ids.nina!, 'moderate_content')).toBe(true);
    await p.gql(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u) { reason } }`, { c: c.id, u: ids.nina }, { token: tokens.olga });
    expect(await can(ids.nina!, 'moderate_content')).toBe(false);
    expect(await can(ids.nina!, 'post')).toBe(false);
  });

  it.runIf(run)('joins by invite link: expiry, max uses and revocation are enforced', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Invite Only', slug: 'invite-only', visibility: 'PRIVATE', joinPolicy: 'INVITE' } }, { token: tokens.olga })).data.createCommunity;
    const mk = async (vars: Record<string, unknown>) =>
      (await p.gql(`mutation($c: ID!, $e: Int, $m: Int) { createInvite(communityId: $c, expiresInSeconds: $e, maxUses: $m) { id code uses maxUses expiresAt } }`, { c: c.id, ...vars }, { token: tokens.olga })).data.createInvite;
    const once = await mk({ m: 1 });
    expect(once.code.length).toBeGreaterThanOrEqual(16);
    expect(codeOf(await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.mike }))).toBe('FORBIDDEN');
    const preview = await p.gql(`query($code: String!) { invitePreview(code: $code) { name valid } }`, { code: once.code });
    expect(preview.data.invitePreview).toEqual({ name: 'Invite Only', valid: true }); // visible to the holder of the code, even when private
    const join = await p.gql(`mutation($code: String!) { joinByInvite(code: $code) { viewerRole } }`, { code: once.code }, { token: tokens.mike });
    expect(join.data.joinByInvite.viewerRole).toBe('MEMBER');
    expect(codeOf(await p.gql(`mutation($code: String!) { joinByInvite(code: $code) { id } }`, { code: once.code }, { token: tokens.nina }))).toBe('INVALID_TOKEN'); // used up
    expect((await p.gql(`query($code: String!) { invitePreview(code: $code) { valid } }`, { code: once.code })).data.invitePreview.valid).toBe(false);

    const revoked = await mk({});
    expect((await p.gql(`mutation($id: ID!) { revokeInvite(id: $id) }`, { id: revoked.id }, { token: tokens.olga })).data.revokeInvite).toBe(true);
    expect(codeOf(await p.gql(`mutation($code: String!) { joinByInvite(code: $code) { id } }`, { code: revoked.code }, { token: tokens.nina }))).toBe('INVALID_TOKEN');

    const expiring = await mk({ e: 3600 });
    await sql`update community.invites set expires_at = now() - interval '1 second' where id = ${expiring.id}`.execute(p.infra.database!.db);
    expect(codeOf(await p.gql(`mutation($code: String!) { joinByInvite(code: $code) { id } }`, { code: expiring.code }, { token: tokens.nina }))).toBe('INVALID_TOKEN');
    expect(codeOf(await p.gql(`mutation { joinByInvite(code: "nope-nope-nope-nope") { id } }`, {}, { token: tokens.nina }))).toBe('INVALID_TOKEN');
    const tooShort = await p.gql(`mutation($c: ID!) { createInvite(communityId: $c, expiresInSeconds: 5) { id } }`, { c: c.id }, { token: tokens.olga });
    expect(codeOf(tooShort)).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(`query($c: ID!) { communityInvites(communityId: $c) { id } }`, { c: c.id }, { token: tokens.nina }))).toBe('NOT_FOUND'); // private: not even its existence
  });

  it.runIf(run)('takes requests to join with the owner\'s questions; moderators approve or reject', async () => {
    const c = (
      await p.gql(CREATE, { input: { name: 'Reviewed', slug: 'reviewed', joinPolicy: 'APPROVAL', joinQuestions: ['Why do you want to join?', 'Favourite bread?'] } }, { token: tokens.olga })
    ).data.createCommunity;
    expect(codeOf(await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.mike }))).toBe('FORBIDDEN');
    const req = (answers: string[], who: string) => p.gql(`mutation($c: ID!, $a: [String!]!) { requestToJoin(communityId: $c, answers: $a) { id status answers } }`, { c: c.id, a: answers }, { token: tokens[who] });
    expect(codeOf(await req(['To bake'], 'mike'))).toBe('BAD_USER_INPUT');
    const mike = (await req(['To bake', 'Rye'], 'mike')).data.requestToJoin;
    expect(mike).toMatchObject({ status: 'PENDING', answers: ['To bake', 'Rye'] });
    expect(codeOf(await req(['Again', 'Rye'], 'mike'))).toBe('CONFLICT');
    const nina = (await req(['Curious', 'Spelt'], 'nina')).data.requestToJoin;
    const pending = await p.gql(`query($c: ID!) { joinRequests(communityId: $c) { id user { handle } answers } }`, { c: c.id }, { token: tokens.olga });
    expect(pending.data.joinRequests.map((r: { user: { handle: string } }) => r.user.handle)).toEqual(['mike', 'nina']);
    expect(codeOf(await p.gql(`query($c: ID!) { joinRequests(communityId: $c) { id } }`, { c: c.id }, { token: tokens.mike }))).toBe('FORBIDDEN');
    const decide = (id: string, approve: boolean) => p.gql(`mutation($id: ID!, $a: Boolean!) { decideJoinRequest(id: $id, approve: $a) { status } }`, { id, a: approve }, { token: tokens.olga });
    expect((await decide(mike.id, true)).data.decideJoinRequest.status).toBe('APPROVED');
    expect((await decide(nina.id, false)).data.decideJoinRequest.status).toBe('REJECTED');
    expect(codeOf(await decide(nina.id, true))).toBe('CONFLICT');
    const roles = await Promise.all(['mike', 'nina'].map(async (w) => (await p.gql(`{ community(slug: "reviewed") { viewerRole } }`, {}, { token: tokens[w] })).data.community.viewerRole));
    expect(roles).toEqual(['MEMBER', null]);
  });

  it.runIf(run)('keeps hidden circles invisible until you are added, and a ban takes access away at once', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Circle Works', slug: 'circle-works' } }, { token: tokens.olga })).data.createCommunity;
    const mkCircle = (input: Record<string, unknown>) =>
      p.gql(`mutation($c: ID!, $i: CreateCircleInput!) { createCircle(communityId: $c, input: $i) { id name access hidden viewerIsMember memberCount } }`, { c: c.id, i: input }, { token: tokens.olga });
    const hidden = (await mkCircle({ name: 'Inner Circle', access: 'INVITE', hidden: true })).data.createCircle;
    expect(hidden).toMatchObject({ access: 'INVITE', hidden: true, viewerIsMember: true, memberCount: 1 });
    const open = (await mkCircle({ name: 'Open Circle' })).data.createCircle;
    const invite = (await p.gql(`mutation($c: ID!) { createInvite(communityId: $c) { code } }`, { c: c.id }, { token: tokens.olga })).data.createInvite;
    await p.gql(`mutation($code: String!) { joinByInvite(code: $code) { id } }`, { code: invite.code }, { token: tokens.mike });
    await mkCircle({ name: 'Nope' });
    const byMember = await p.gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Mine" }) { id } }`, { c: c.id }, { token: tokens.mike });
    expect(codeOf(byMember)).toBe('FORBIDDEN'); // members lack "manage circles"

    const circlesOf = async (who: string) => (await p.gql(`{ community(slug: "circle-works") { circles { name } } }`, {}, { token: tokens[who] })).data.community.circles.map((x: { name: string }) => x.name);
    expect(await circlesOf('mike')).toEqual(['Open Circle', 'Nope']);
    expect((await p.gql(`query($id: ID!) { circle(id: $id) { id } }`, { id: hidden.id }, { token: tokens.mike })).data.circle).toBeNull();
    expect(codeOf(await p.gql(`mutation($id: ID!) { joinCircle(id: $id) { id } }`, { id: hidden.id }, { token: tokens.mike }))).toBe('NOT_FOUND');
    expect((await p.gql(`mutation($id: ID!) { joinCircle(id: $id) { viewerIsMember } }`, { id: open.id }, { token: tokens.mike })).data.joinCircle.viewerIsMember).toBe(true);

    const api = p.host.apis!.community;
    const canPostHidden = () => api.can({ userId: ids.mike!, permission: 'post', communityId: c.id, spaceId: hidden.id });
    expect(await canPostHidden()).toBe(false);
    const added = await p.gql(`mutation($s: ID!, $u: ID!) { addCircleMember(circleId: $s, userId: $u) { role user { handle } } }`, { s: hidden.id, u: ids.mike }, { token: tokens.olga });
    expect(added.data.addCircleMember).toEqual({ role: 'MEMBER', user: { handle: 'mike' } });
    expect(await circlesOf('mike')).toEqual(['Inner Circle', 'Open Circle', 'Nope']);
    expect(await canPostHidden()).toBe(true);
    const members = await p.gql(`query($s: ID!) { circleMembers(circleId: $s) { role user { handle } } }`, { s: hidden.id }, { token: tokens.mike });
    expect(members.data.circleMembers).toEqual([{ role: 'HOST', user: { handle: 'olga' } }, { role: 'MEMBER', user: { handle: 'mike' } }]);

    await p.gql(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "gone") { reason } }`, { c: c.id, u: ids.mike }, { token: tokens.olga });
    expect(await canPostHidden()).toBe(false);
    expect(await circlesOf('mike')).toEqual(['Open Circle', 'Nope']); // the community is listed; the hidden circle is gone
    expect((await p.gql(`query($id: ID!) { circle(id: $id) { id } }`, { id: hidden.id }, { token: tokens.mike })).data.circle).toBeNull();
    expect((await p.gql(`query($s: ID!) { circleMembers(circleId: $s) { user { handle } } }`, { s: hidden.id }, { token: tokens.olga })).data.circleMembers).toEqual([{ user: { handle: 'olga' } }]);
  });

  it.runIf(run)('circle managers edit circles; deleting one needs its name typed and ends its members\' access', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Circle Edits', slug: 'circle-edits' } }, { token: tokens.olga })).data.createCommunity;
    await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.mike });
    const circle = (await p.gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Book Club" }) { id } }`, { c: c.id }, { token: tokens.olga })).data.createCircle;
    await p.gql(`mutation($id: ID!) { joinCircle(id: $id) { id } }`, { id: circle.id }, { token: tokens.mike });
    const edit = (as: string, input: Record<string, unknown>) =>
      p.gql(`mutation($id: ID!, $i: UpdateCircleInput!) { updateCircle(id: $id, input: $i) { name description access hidden } }`, { id: circle.id, i: input }, { token: tokens[as] });
    expect(codeOf(await edit('mike', { name: 'Mine now' }))).toBe('FORBIDDEN');
    expect(codeOf(await edit('olga', {}))).toBe('BAD_USER_INPUT');
    expect(codeOf(await edit('olga', { name: 'x' }))).toBe('BAD_USER_INPUT');
    expect((await edit('olga', { name: 'Reading Room', description: 'Slow books', access: 'INVITE', hidden: true })).data.updateCircle).toEqual({
      name: 'Reading Room',
      description: 'Slow books',
      access: 'INVITE',
      hidden: true,
    });
    const audit = await p.gql(`query($c: ID!) { auditLog(communityId: $c, action: "circle.update") { before after } }`, { c: c.id }, { token: tokens.olga });
    expect(JSON.parse(audit.data.auditLog[0].before)).toMatchObject({ name: 'Book Club', hidden: false });

    const api = p.host.apis!.community;
    expect(await api.can({ userId: ids.mike!, permission: 'post', communityId: c.id, spaceId: circle.id })).toBe(true);
    const del = (as: string, name: string) => p.gql(`mutation($id: ID!, $n: String!) { deleteCircle(id: $id, confirmName: $n) }`, { id: circle.id, n: name }, { token: tokens[as] });
    expect(codeOf(await del('mike', 'Reading Room'))).toBe('FORBIDDEN');
    expect(codeOf(await del('olga', 'Book Club'))).toBe('BAD_USER_INPUT');
    expect((await del('olga', 'Reading Room')).data.deleteCircle).toBe(true);
    expect(await api.can({ userId: ids.mike!, permission: 'post', communityId: c.id, spaceId: circle.id })).toBe(false);
    expect((await p.gql(`query($id: ID!) { circle(id: $id) { id } }`, { id: circle.id }, { token: tokens.olga })).data.circle).toBeNull();
    expect(codeOf(await del('olga', 'Reading Room'))).toBe('NOT_FOUND');
  });

  it.runIf(run)('circle hosts look after ordinary members only; archived communities take no one in by invite', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Host Reach', slug: 'host-reach' } }, { token: tokens.olga })).data.createCommunity;
    const invite = (await p.gql(`mutation($c: ID!) { createInvite(communityId: $c) { code } }`, { c: c.id }, { token: tokens.olga })).data.createInvite;
    for (const who of ['mike', 'nina']) await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens[who] });
    const circle = (await p.gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Hosted", access: INVITE }) { id } }`, { c: c.id }, { token: tokens.olga })).data.createCircle;
    const add = (as: string, u: string, role = 'MEMBER') =>
      p.gql(`mutation($s: ID!, $u: ID!, $r: CircleRole) { addCircleMember(circleId: $s, userId: $u, role: $r) { role } }`, { s: circle.id, u, r: role }, { token: tokens[as] });
    const remove = (as: string, u: string) => p.gql(`mutation($s: ID!, $u: ID!) { removeCircleMember(circleId: $s, userId: $u) }`, { s: circle.id, u }, { token: tokens[as] });
    expect((await add('olga', ids.mike!, 'HOST')).data.addCircleMember.role).toBe('HOST');
    expect((await add('mike', ids.nina!)).data.addCircleMember.role).toBe('MEMBER'); // a host adds members
    expect(codeOf(await remove('mike', ids.olga!))).toBe('FORBIDDEN'); // but cannot remove the owner
    expect(codeOf(await add('mike', ids.olga!, 'MEMBER'))).toBe('FORBIDDEN'); // nor demote them
    expect((await remove('mike', ids.nina!)).data.removeCircleMember).toBe(true);
    expect((await remove('olga', ids.mike!)).data.removeCircleMember).toBe(true); // the owner manages circles

    await p.gql(`mutation($id: ID!) { archiveCommunity(id: $id, confirmSlug: "host-reach") { archived } }`, { id: c.id }, { token: tokens.olga });
    const late = await p.gql(`mutation { signUp(input: { email: "late-host@example.com", password: "${pw}", handle: "latehost", displayName: "Late", delivery: BEARER }) { token } }`);
    expect(codeOf(await p.gql(`mutation($code: String!) { joinByInvite(code: $code) { id } }`, { code: invite.code }, { token: late.data.signUp.token }))).toBe('BAD_USER_INPUT');
  });

  it.runIf(run)('pages through the directory with a cursor, newest first, without repeats', async () => {
    for (let i = 0; i < 5; i++) await p.gql(CREATE, { input: { name: `Page ${i}`, slug: `page-${i}` } }, { token: tokens.nina });
    const all = (await p.gql(`{ communities(first: 1000) { id slug } }`)).data.communities as { id: string; slug: string }[];
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = (await p.gql(`query($a: ID) { communities(first: 2, after: $a) { id slug } }`, { a: after })).data.communities as { id: string; slug: string }[];
      if (!page.length) break;
      seen.push(...page.map((c) => c.slug));
      after = page[page.length - 1]!.id;
    }
    expect(seen).toEqual(all.map((c) => c.slug));
    expect(seen.slice(0, 5)).toEqual(['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    expect(codeOf(await p.gql(`{ communities(after: "nope") { id } }`))).toBe('BAD_USER_INPUT');
  });

  it.runIf(run)('tells banned people why, lifts timeouts early, keeps the questions a request answered, names audit targets, and shows members only their own invites', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Gap Fillers', slug: 'gap-fillers', joinPolicy: 'APPROVAL', joinQuestions: ['Why join?'] } }, { token: tokens.olga })).data.createCommunity;
    await p.gql(`mutation($c: ID!) { requestToJoin(communityId: $c, answers: ["Bread"]) { id } }`, { c: c.id }, { token: tokens.mike });
    await p.gql(`mutation($id: ID!, $i: UpdateCommunityInput!) { updateCommunity(id: $id, input: $i) { id } }`, { id: c.id, i: { joinQuestions: ['Reworded?'] } }, { token: tokens.olga });
    const reqs = (await p.gql(`query($c: ID!) { joinRequests(communityId: $c) { id questions answers } }`, { c: c.id }, { token: tokens.olga })).data.joinRequests;
    expect(reqs).toEqual([{ id: expect.any(String), questions: ['Why join?'], answers: ['Bread'] }]);
    await p.gql(`mutation($id: ID!) { decideJoinRequest(id: $id, approve: true) { status } }`, { id: reqs[0].id }, { token: tokens.olga });

    const timeout = await p.gql(`mutation($c: ID!, $u: ID!) { timeoutMember(communityId: $c, userId: $u, durationSeconds: 600) { timedOutUntil } }`, { c: c.id, u: ids.mike }, { token: tokens.olga });
    expect(timeout.data.timeoutMember.timedOutUntil).toBeTruthy();
    const api = p.host.apis!.community;
    expect(await api.can({ userId: ids.mike!, permission: 'post', communityId: c.id })).toBe(false);
    expect(codeOf(await p.gql(`mutation($c: ID!, $u: ID!) { clearTimeout(communityId: $c, userId: $u) { timedOutUntil } }`, { c: c.id, u: ids.olga }, { token: tokens.mike }))).toBe('FORBIDDEN');
    const cleared = await p.gql(`mutation($c: ID!, $u: ID!) { clearTimeout(communityId: $c, userId: $u) { timedOutUntil } }`, { c: c.id, u: ids.mike }, { token: tokens.olga });
    expect(cleared.data.clearTimeout.timedOutUntil).toBeNull();
    expect(await api.can({ userId: ids.mike!, permission: 'post', communityId: c.id })).toBe(true);

    const mine = (await p.gql(`mutation($c: ID!) { createInvite(communityId: $c) { code } }`, { c: c.id }, { token: tokens.mike })).data.createInvite.code;
    const owners = (await p.gql(`mutation($c: ID!) { createInvite(communityId: $c) { code } }`, { c: c.id }, { token: tokens.olga })).data.createInvite.code;
    const list = async (who: string) => (await p.gql(`query($c: ID!) { communityInvites(communityId: $c) { code } }`, { c: c.id }, { token: tokens[who] })).data.communityInvites.map((i: { code: string }) => i.code);
    expect(await list('mike')).toEqual([mine]);
    expect((await list('olga')).sort()).toEqual([mine, owners].sort());

    const banned = await p.gql(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "Spam", durationSeconds: 3600) { expiresAt } }`, { c: c.id, u: ids.mike }, { token: tokens.olga });
    expect(banned.errors).toBeUndefined();
    const notice = (await p.gql(`{ community(slug: "gap-fillers") { viewerRole viewerBan { reason expiresAt } } }`, {}, { token: tokens.mike })).data.community;
    expect(notice).toEqual({ viewerRole: null, viewerBan: { reason: 'Spam', expiresAt: banned.data.banMember.expiresAt } });
    expect((await p.gql(`{ community(slug: "gap-fillers") { viewerBan { reason } } }`, {}, { token: tokens.nina })).data.community.viewerBan).toBeNull();
    // The invite page says so too, without needing to see the community (private ones included).
    const preview = (who?: string) => p.gql(`query($code: String!) { invitePreview(code: $code) { valid viewerBan { reason } } }`, { code: owners }, who ? { token: tokens[who] } : {});
    expect((await preview('mike')).data.invitePreview).toEqual({ valid: true, viewerBan: { reason: 'Spam' } });
    expect((await preview('nina')).data.invitePreview.viewerBan).toBeNull();
    expect((await preview()).data.invitePreview.viewerBan).toBeNull();

    const audit = (await p.gql(`query($c: ID!) { auditLog(communityId: $c, action: "member.ban") { targetUser { handle } } }`, { c: c.id }, { token: tokens.olga })).data.auditLog;
    expect(audit).toEqual([{ targetUser: { handle: 'mike' } }]);
    const roleErr = await p.gql(`mutation($c: ID!) { createRole(communityId: $c, name: "x", permissions: []) { id } }`, { c: c.id }, { token: tokens.olga });
    expect(roleErr.errors![0]!.extensions!.field).toBe('name');
  });

  it.runIf(run)('tells other services who may read a space, hiding what outsiders must not know exists', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Readers', slug: 'readers' } }, { token: tokens.olga })).data.createCommunity;
    await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.mike });
    const mk = async (name: string, hidden: boolean) =>
      (await p.gql(`mutation($c: ID!, $i: CreateCircleInput!) { createCircle(communityId: $c, input: $i) { id } }`, { c: c.id, i: { name, hidden, access: 'INVITE' } }, { token: tokens.olga })).data.createCircle.id as string;
    const [shown, hidden] = [await mk('Shown', false), await mk('Hidden', true)];
    const api = p.host.apis!.community;
    const access = (userId: string | null, spaceId: string) => api.spaceAccess({ userId, communityId: c.id, spaceId });
    const center = c.publicCenter.id;
    expect(await access(null, center)).toEqual({ kind: 'public_center', readable: true, public: true, member: false });
    expect(await access(ids.nina!, shown)).toEqual({ kind: 'circle', readable: false, public: false, member: false }); // a teaser, not the content
    expect(await access(ids.mike!, shown)).toEqual({ kind: 'circle', readable: false, public: false, member: true });
    expect(await access(ids.mike!, hidden)).toBeNull();
    expect(await access(null, hidden)).toBeNull();
    expect(await access(ids.olga!, hidden)).toEqual({ kind: 'circle', readable: true, public: false, member: true });
    await p.gql(`mutation($s: ID!, $u: ID!) { addCircleMember(circleId: $s, userId: $u) { role } }`, { s: hidden, u: ids.mike }, { token: tokens.olga });
    expect(await access(ids.mike!, hidden)).toEqual({ kind: 'circle', readable: true, public: false, member: true });
    // Many people at once (chat's @here asks with everyone online): the members who may read, nobody else.
    const among = async (spaceId: string, userIds: string[], communityId = c.id) => [...(await api.readersAmong({ communityId, spaceId, userIds }))].sort();
    const everyone = [ids.olga!, ids.mike!, ids.nina!, 'not-a-uuid', ids.mike!];
    expect(await among(center, everyone)).toEqual([ids.olga!, ids.mike!].sort());
    expect(await among(shown, everyone)).toEqual([ids.olga!]); // the owner manages circles; mike is not in this one
    expect(await among(hidden, everyone)).toEqual([ids.olga!, ids.mike!].sort());
    // A custom role that manages circles reads them all, as spaceAccess says.
    await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.nina });
    const curator = (await p.gql(`mutation($c: ID!) { createRole(communityId: $c, name: "Curator", permissions: ["manage_circles"]) { id } }`, { c: c.id }, { token: tokens.olga })).data.createRole.id;
    expect(await among(shown, everyone)).toEqual([ids.olga!]);
    await p.gql(`mutation($c: ID!, $u: ID!, $r: ID!) { assignRole(communityId: $c, userId: $u, roleId: $r) }`, { c: c.id, u: ids.nina, r: curator }, { token: tokens.olga });
    expect(await access(ids.nina!, shown)).toMatchObject({ readable: true });
    expect(await among(shown, everyone)).toEqual([ids.olga!, ids.nina!].sort());
    expect(await among(center, [])).toEqual([]);
    // Another community's id with this space: nothing.
    const other = (await p.gql(CREATE, { input: { name: 'Elsewhere', slug: 'elsewhere-readers' } }, { token: tokens.nina })).data.createCommunity;
    expect(await api.spaceAccess({ userId: ids.olga!, communityId: other.id, spaceId: center })).toBeNull();
    // Going private reaches cached anonymous answers at once.
    await p.gql(`mutation($id: ID!) { updateCommunity(id: $id, input: { visibility: PRIVATE }) { id } }`, { id: c.id }, { token: tokens.olga });
    expect(await access(null, center)).toBeNull();
    expect(await access(ids.mike!, center)).toEqual({ kind: 'public_center', readable: true, public: false, member: true });
    await p.gql(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u) { reason } }`, { c: c.id, u: ids.mike }, { token: tokens.olga });
    expect(await access(ids.mike!, center)).toBeNull();
    expect(await access(ids.mike!, hidden)).toBeNull();
    expect(await among(hidden, everyone)).toEqual([ids.olga!, ids.nina!].sort());
    expect(await among(center, everyone, other.id)).toEqual([]);
  });

  it.runIf(run)('shows people their own pending request and custom roles in the member directory', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Waiting Room', slug: 'waiting-room', joinPolicy: 'APPROVAL' } }, { token: tokens.olga })).data.createCommunity;
    const mine = async (who?: string) => (await p.gql(`{ community(slug: "waiting-room") { viewerJoinRequest { status answers } } }`, {}, who ? { token: tokens[who] } : {})).data.community.viewerJoinRequest;
    expect(await mine('mike')).toBeNull();
    expect(await mine()).toBeNull();
    await p.gql(`mutation($c: ID!) { requestToJoin(communityId: $c) { id } }`, { c: c.id }, { token: tokens.mike });
    expect(await mine('mike')).toEqual({ status: 'PENDING', answers: [] });
    expect(await mine('nina')).toBeNull();
    const req = (await p.gql(`query($c: ID!) { joinRequests(communityId: $c) { id } }`, { c: c.id }, { token: tokens.olga })).data.joinRequests[0];
    await p.gql(`mutation($id: ID!) { decideJoinRequest(id: $id, approve: true) { status } }`, { id: req.id }, { token: tokens.olga });
    expect(await mine('mike')).toBeNull();

    const role = (await p.gql(`mutation($c: ID!) { createRole(communityId: $c, name: "Greeter", permissions: ["invite"]) { id } }`, { c: c.id }, { token: tokens.olga })).data.createRole;
    await p.gql(`mutation($c: ID!, $u: ID!, $r: ID!) { assignRole(communityId: $c, userId: $u, roleId: $r) }`, { c: c.id, u: ids.mike, r: role.id }, { token: tokens.olga });
    const members = await p.gql(`query($c: ID!) { communityMembers(communityId: $c) { role user { handle } customRoles { name } } }`, { c: c.id }, { token: tokens.mike });
    expect(members.data.communityMembers).toEqual([
      { role: 'OWNER', user: { handle: 'olga' }, customRoles: [] },
      { role: 'MEMBER', user: { handle: 'mike' }, customRoles: [{ name: 'Greeter' }] },
    ]);
  });

  it.runIf(run)('archives (read-only, out of the directory) and deletes only for the owner, with the address typed to confirm', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Short Lived', slug: 'short-lived' } }, { token: tokens.nina })).data.createCommunity;
    await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.mike });
    const archive = (as: string, slug: string) => p.gql(`mutation($id: ID!, $s: String!) { archiveCommunity(id: $id, confirmSlug: $s) { archived } }`, { id: c.id, s: slug }, { token: tokens[as] });
    expect(codeOf(await archive('mike', 'short-lived'))).toBe('FORBIDDEN');
    expect(codeOf(await archive('nina', 'short'))).toBe('BAD_USER_INPUT');
    expect((await archive('nina', 'short-lived')).data.archiveCommunity.archived).toBe(true);
    expect((await p.gql(`{ communities(first: 100) { slug } }`)).data.communities.map((x: { slug: string }) => x.slug)).not.toContain('short-lived');
    expect(codeOf(await p.gql(`mutation($id: ID!) { updateCommunity(id: $id, input: { name: "Still here" }) { id } }`, { id: c.id }, { token: tokens.nina }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens.olga }))).toBe('BAD_USER_INPUT');
    expect((await p.gql(`mutation($id: ID!) { unarchiveCommunity(id: $id) { archived } }`, { id: c.id }, { token: tokens.nina })).data.unarchiveCommunity.archived).toBe(false);

    const del = (as: string, slug: string) => p.gql(`mutation($id: ID!, $s: String!) { deleteCommunity(id: $id, confirmSlug: $s) }`, { id: c.id, s: slug }, { token: tokens[as] });
    expect(codeOf(await del('mike', 'short-lived'))).toBe('FORBIDDEN');
    expect(codeOf(await del('nina', 'wrong'))).toBe('BAD_USER_INPUT');
    expect((await del('nina', 'short-lived')).data.deleteCommunity).toBe(true);
    expect((await p.gql(`{ community(slug: "short-lived") { id } }`, {}, { token: tokens.nina })).data.community).toBeNull();
    expect(await p.host.apis!.community.can({ userId: ids.mike!, permission: 'post', communityId: c.id })).toBe(false);
    // The slug is free again.
    expect((await p.gql(CREATE, { input: { name: 'Reborn', slug: 'short-lived' } }, { token: tokens.mike })).errors).toBeUndefined();
  });

  it.runIf(run)('custom roles carry named permissions; nobody hands out what they lack; space overrides layer like channel overwrites', async () => {
    const c = (await p.gql(CREATE, { input: { name: 'Role Play', slug: 'role-play' } }, { token: tokens.olga })).data.createCommunity;
    for (const who of ['mike', 'nina']) await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: tokens[who] });
    const mkRole = (as: string, name: string, perms: string[]) =>
      p.gql(`mutation($c: ID!, $n: String!, $p: [String!]!) { createRole(communityId: $c, name: $n, permissions: $p) { id name permissions } }`, { c: c.id, n: name, p: perms }, { token: tokens[as] });
    const assign = (as: string, userId: string, roleId: string) =>
      p.gql(`mutation($c: ID!, $u: ID!, $r: ID!) { assignRole(communityId: $c, userId: $u, roleId: $r) }`, { c: c.id, u: userId, r: roleId }, { token: tokens[as] });
    const keeper = (await mkRole('olga', 'Role Keeper', ['manage_roles', 'post'])).data.createRole;
    expect(codeOf(await mkRole('olga', 'role keeper', ['post']))).toBe('CONFLICT');
    expect(codeOf(await mkRole('olga', 'Bad', ['fly']))).toBe('BAD_USER_INPUT');
    expect(codeOf(await mkRole('mike', 'Mine', ['post']))).toBe('FORBIDDEN');
    expect((await assign('olga', ids.mike!, keeper.id)).data.assignRole).toBe(true);
    // Mike may now manage roles, but only hand out what he holds himself.
    expect(codeOf(await mkRole('mike', 'Boss', ['manage_community']))).toBe('FORBIDDEN');
    const speakers = (await mkRole('mike', 'Speakers', ['post'])).data.createRole;
    expect(speakers.permissions).toEqual(['post']);
    expect((await assign('mike', ids.nina!, speakers.id)).data.assignRole).toBe(true); // rank: a member with a managing custom role is above plain members
    expect(codeOf(await assign('mike', ids.olga!, speakers.id))).toBe('FORBIDDEN'); // …but never above the owner

    // An announcements-style space: members may not post in the Public Center, Speakers may.
    const center = (await p.gql(`{ community(slug: "role-play") { publicCenter { id } } }`)).data.community.publicCenter.id;
    const override = (subject: string, allow: string[], deny: string[]) =>
      p.gql(`mutation($s: ID!, $sub: String!, $a: [String!]!, $d: [String!]!) { setSpaceOverride(spaceId: $s, subject: $sub, allow: $a, deny: $d) { subject allow deny } }`, { s: center, sub: subject, a: allow, d: deny }, { token: tokens.olga });
    expect((await override('member', [], ['post'])).data.setSpaceOverride).toEqual({ subject: 'member', allow: [], deny: ['post'] });
    await override(speakers.id, ['post'], []);
    const api = p.host.apis!.community;
    const canPost = (userId: string, spaceId?: string) => api.can({ userId, permission: 'post', communityId: c.id, spaceId });
    expect(await canPost(ids.nina!, center)).toBe(true); // Speakers' allow beats the members' deny
    expect(await canPost(ids.olga!, center)).toBe(true); // overrides never restrict the owner
    expect(await canPost(ids.nina!)).toBe(true); // community-wide, nothing changed
    const plain = (await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, { input: { email: 'plain@example.com', password: pw, handle: 'plain', displayName: 'Plain', delivery: 'BEARER' } })).data.signUp;
    await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: plain.token });
    expect(await canPost(plain.account.id, center)).toBe(false);
    const mine = await p.gql(`query($c: ID!, $s: ID) { myPermissions(communityId: $c, spaceId: $s) }`, { c: c.id, s: center }, { token: plain.token });
    expect(mine.data.myPermissions).toEqual(['comment', 'chat', 'speak', 'invite']);

    // Changing an override or a role reaches cached answers at once.
    await override(speakers.id, [], []);
    expect(await canPost(ids.nina!, center)).toBe(false);
    await p.gql(`mutation($id: ID!) { updateRole(id: $id, permissions: ["post"]) { permissions } }`, { id: keeper.id }, { token: tokens.olga });
    expect(await api.can({ userId: ids.mike!, permission: 'manage_roles', communityId: c.id })).toBe(false);
    expect(codeOf(await mkRole('mike', 'Too Late', ['post']))).toBe('FORBIDDEN');
    expect((await p.gql(`mutation($id: ID!) { deleteRole(id: $id) }`, { id: speakers.id }, { token: tokens.olga })).data.deleteRole).toBe(true);
    expect((await p.gql(`query($c: ID!) { communityRoles(communityId: $c) { name } }`, { c: c.id }, { token: tokens.nina })).data.communityRoles).toEqual([{ name: 'Role Keeper' }]);
  });
});
