/**
 * Runs the Community authorization matrix (community-authz-matrix.ts): every query and mutation of the community
 * subgraph and its federation entity resolvers × 9 roles × 4 targets, each cell asserted exactly, on one embedded
 * platform (PGlite). Queries and mutations go through the gateway with bearer tokens, as a client would send them.
 * `_entities` is not part of the public schema and no other subgraph references Community or Space, so the gateway
 * never asks for them today; they are called the way the gateway would: on the community subgraph's in-process
 * executor (the same `createInProcessExecutor` the embedded gateway uses) with an identity signed under the
 * platform's gateway secret — over a second instance of the community service on the same database.
 *
 * Coverage: the operations in services/community/src/schema.graphql (Query and Mutation fields, plus one
 * `Entity.<Type>` per resolvable @key type) must equal the matrix's entries, both ways.
 */
import { readFileSync } from 'node:fs';
import { communityService } from '@circles/community';
import { buildServiceSchema, createInProcessExecutor, createLogger, IDENTITY_CONTEXT_KEY, type Identity, Outbox, type ServiceDeps, signIdentity } from '@circles/platform';
import { type GqlResult, startTestPlatform, type TestPlatform } from '@circles/testing';
import { type ExecutionResult, Kind, parse } from 'graphql';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cell, type Fixture, isNa, matrix, type Operation, type Outcome, type Person, type Role, roles, type Side, type Target, targets, type World } from './community-authz-matrix.ts';

const schemaPath = new URL('../../services/community/src/schema.graphql', import.meta.url);
const pw = 'violet-kettle-sunrise-42';
const people: Person[] = ['owner', 'admin', 'moderator', 'member', 'custom', 'banned', 'timedOut', 'nonMember', 'otherOwner', 'bystander', 'victim', 'applicant'];
/** Roles whose holder is a member of A (and of its circle J) in the fixture. */
const membersOfA: Role[] = ['member', 'moderator', 'admin', 'owner', 'timedOut', 'custom'];

/** The operations the schema defines: Query.x, Mutation.x, and Entity.T for each resolvable @key type. */
function schemaOperations(): string[] {
  const doc = parse(readFileSync(schemaPath, 'utf8'));
  const ops: string[] = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const type = def.name.value;
    if (type === 'Query' || type === 'Mutation') for (const f of def.fields ?? []) ops.push(`${type}.${f.name.value}`);
    const key = def.directives?.find((d) => d.name.value === 'key');
    const resolvable = key?.arguments?.find((a) => a.name.value === 'resolvable');
    if (key && !(resolvable?.value.kind === Kind.BOOLEAN && resolvable.value.value === false)) ops.push(`Entity.${type}`);
  }
  return ops;
}

describe('community authorization matrix', () => {
  let p: TestPlatform;
  let db: Kysely<any>;
  let entities: (identity: Identity, document: string, variables: Record<string, unknown>) => Promise<ExecutionResult>;
  const tokens = {} as Record<Person, string>;
  const ids = {} as Record<Person, string>;
  let shared: World;
  let baseline: string;
  let seq = 0;
  const unique = (prefix: string) => `${prefix}-${(++seq).toString(36)}-${Date.now().toString(36)}`;
  const tally = { cells: 0, na: 0, ops: 0, requests: 0, started: Date.now(), setupMs: 0 };

  const gql = (who: Person | null, query: string, variables: Record<string, unknown> = {}): Promise<GqlResult> => {
    tally.requests++;
    return p.gql(query, variables, who ? { token: tokens[who] } : {});
  };
  /** Set-up calls must succeed. */
  const must = async (who: Person, query: string, variables: Record<string, unknown> = {}) => {
    const r = await gql(who, query, variables);
    if (r.errors?.length || !r.data) throw new Error(`fixture set-up failed (${who}): ${JSON.stringify(r.errors)}\n${query}`);
    return r.data as any;
  };
  const rows = async <T,>(q: ReturnType<typeof sql<T>>) => (await q.execute(db)).rows;

  // ---- fixture building, all through the public API as the people involved --------------------------------------

  const CREATE = `mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id slug publicCenter { id } } }`;
  const INVITE = `mutation($c: ID!) { createInvite(communityId: $c) { id code } }`;
  const JOIN_BY_INVITE = `mutation($code: String!) { joinByInvite(code: $code) { id } }`;
  const SET_ROLE = `mutation($c: ID!, $u: ID!, $r: CommunityRole!) { setMemberRole(communityId: $c, userId: $u, role: $r) { role } }`;
  const CREATE_ROLE = `mutation($c: ID!, $n: String!, $p: [String!]!) { createRole(communityId: $c, name: $n, permissions: $p) { id } }`;
  const ASSIGN = `mutation($c: ID!, $u: ID!, $r: ID!) { assignRole(communityId: $c, userId: $u, roleId: $r) }`;
  const UNASSIGN = `mutation($c: ID!, $u: ID!, $r: ID!) { unassignRole(communityId: $c, userId: $u, roleId: $r) }`;
  const TIMEOUT = `mutation($c: ID!, $u: ID!) { timeoutMember(communityId: $c, userId: $u, durationSeconds: ${28 * 86_400}) { timedOutUntil } }`;
  const BAN = `mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u) { createdAt } }`;
  const UNBAN = `mutation($c: ID!, $u: ID!) { unbanMember(communityId: $c, userId: $u) }`;
  const CREATE_CIRCLE = `mutation($c: ID!, $i: CreateCircleInput!) { createCircle(communityId: $c, input: $i) { id name } }`;
  const ADD_TO_CIRCLE = `mutation($s: ID!, $u: ID!) { addCircleMember(circleId: $s, userId: $u, role: MEMBER) { role } }`;
  const REMOVE_FROM_CIRCLE = `mutation($s: ID!, $u: ID!) { removeCircleMember(circleId: $s, userId: $u) }`;
  const LEAVE_CIRCLE = `mutation($s: ID!) { leaveCircle(id: $s) }`;
  const REQUEST = `mutation($c: ID!) { requestToJoin(communityId: $c, answers: ["Because"]) { id } }`;
  const UPDATE = `mutation($c: ID!, $i: UpdateCommunityInput!) { updateCommunity(id: $c, input: $i) { id } }`;
  const OVERRIDE = `mutation($s: ID!, $subject: String!) { setSpaceOverride(spaceId: $s, subject: $subject, allow: [], deny: ["chat"]) { subject } }`;
  const ARCHIVE = `mutation($c: ID!, $s: String!) { archiveCommunity(id: $c, confirmSlug: $s) { id } }`;

  const communityA = { name: 'Alpha Guild', visibility: 'LISTED', joinPolicy: 'APPROVAL', joinQuestions: ['Why do you want to join?'] };

  /** Puts `role`'s person into community `c` (already holding an invite code) in that role. */
  async function enrol(c: { id: string; code: string }, role: Role, curatorRoleId: () => Promise<string>) {
    if (role === 'anonymous' || role === 'nonMember' || role === 'owner') return;
    await must(role, JOIN_BY_INVITE, { code: c.code });
    if (role === 'admin' || role === 'moderator') await must('owner', SET_ROLE, { c: c.id, u: ids[role], r: role.toUpperCase() });
    if (role === 'custom') await must('owner', ASSIGN, { c: c.id, u: ids.custom, r: await curatorRoleId() });
    if (role === 'timedOut') await must('owner', TIMEOUT, { c: c.id, u: ids.timedOut });
  }

  /** The shared world: A with every role, its circles Lobby, H and J; private B owned by someone else. */
  async function buildSharedWorld(): Promise<World> {
    const a = (await must('owner', CREATE, { input: { ...communityA, slug: unique('alpha') } })).createCommunity;
    const inviteA = (await must('owner', INVITE, { c: a.id })).createInvite;
    const curator = (await must('owner', CREATE_ROLE, { c: a.id, n: 'Curator', p: ['manage_circles', 'view_audit_log'] })).createRole.id;
    const speaker = (await must('owner', CREATE_ROLE, { c: a.id, n: 'Speaker', p: ['post'] })).createRole.id;
    const unused = (await must('owner', CREATE_ROLE, { c: a.id, n: 'Unused', p: ['chat'] })).createRole.id;
    for (const r of ['admin', 'moderator', 'member', 'custom', 'timedOut', 'banned'] as const) await enrol({ id: a.id, code: inviteA.code }, r, async () => curator);
    for (const who of ['bystander', 'victim'] as const) await must(who, JOIN_BY_INVITE, { code: inviteA.code });
    const circle = async (name: string, access: string, hidden: boolean, members: Person[]) => {
      const c = (await must('owner', CREATE_CIRCLE, { c: a.id, i: { name, access, hidden } })).createCircle;
      for (const m of members) await must('owner', ADD_TO_CIRCLE, { s: c.id, u: ids[m] });
      await must('owner', LEAVE_CIRCLE, { s: c.id }); // the creator is its host: leave, so the owner is "not joined"
      return c.id as string;
    };
    const lobby = await circle('Lobby', 'OPEN', false, ['bystander']);
    const hidden = await circle('Hidden Room', 'INVITE', true, ['bystander']);
    const joined = await circle('Joined Room', 'INVITE', true, ['bystander', 'admin', 'moderator', 'member', 'custom', 'timedOut', 'banned']);
    await must('owner', ADD_TO_CIRCLE, { s: joined, u: ids.owner }); // back in, as a plain circle member
    await must('owner', BAN, { c: a.id, u: ids.banned }); // after joining J: the ban must end that too
    await must('applicant', REQUEST, { c: a.id }); // a request waiting for a decision

    // B: listed at first so it can receive a request to join, then made private.
    const b = (await must('otherOwner', CREATE, { input: { name: 'Beta Lodge', slug: unique('beta'), visibility: 'LISTED', joinPolicy: 'APPROVAL' } })).createCommunity;
    const pending = (await must('applicant', REQUEST, { c: b.id })).requestToJoin.id;
    await must('otherOwner', UPDATE, { c: b.id, i: { visibility: 'PRIVATE', joinPolicy: 'INVITE' } });
    const inviteB = (await must('otherOwner', INVITE, { c: b.id })).createInvite;
    await must('victim', JOIN_BY_INVITE, { code: inviteB.code });
    const bSpeaker = (await must('otherOwner', CREATE_ROLE, { c: b.id, n: 'Speaker', p: ['post'] })).createRole.id;
    const bUnused = (await must('otherOwner', CREATE_ROLE, { c: b.id, n: 'Unused', p: ['chat'] })).createRole.id;
    const bCircle = (await must('otherOwner', CREATE_CIRCLE, { c: b.id, i: { name: 'Back Room', access: 'OPEN', hidden: false } })).createCircle.id;
    // One override per space (the subject a role nobody holds), so reading overrides has something to show;
    // setSpaceOverride cells write the very same one, so they leave the fixture as it was.
    for (const s of [a.publicCenter.id, hidden, joined]) await must('owner', OVERRIDE, { s, subject: unused });
    await must('otherOwner', OVERRIDE, { s: b.publicCenter.id, subject: bUnused });

    return {
      A: { id: a.id, slug: a.slug, publicCenterId: a.publicCenter.id, inviteCode: inviteA.code, speakerRoleId: speaker, unusedRoleId: unused, openCircleId: lobby, hiddenCircleId: hidden, joinedCircleId: joined },
      B: { id: b.id, slug: b.slug, publicCenterId: b.publicCenter.id, inviteCode: inviteB.code, speakerRoleId: bSpeaker, unusedRoleId: bUnused, openCircleId: bCircle, pendingRequestId: pending },
    };
  }

  /**
   * A fresh world for one cell: for the "other" target a new private B, else a new A holding only the actor (in its
   * role) and the victim. The side the cell does not aim at is the shared one's.
   */
  async function buildFreshWorld(role: Role, t: Target): Promise<World> {
    const none = ''; // a fresh world has no circles or extra roles: the operations using it take none
    if (t === 'other') {
      const b = (await must('otherOwner', CREATE, { input: { name: 'Beta Lodge', slug: unique('beta'), visibility: 'PRIVATE', joinPolicy: 'INVITE' } })).createCommunity;
      const inviteB = (await must('otherOwner', INVITE, { c: b.id })).createInvite;
      return { A: shared.A, B: { id: b.id, slug: b.slug, publicCenterId: b.publicCenter.id, inviteCode: inviteB.code, speakerRoleId: none, unusedRoleId: none, openCircleId: none, pendingRequestId: none } };
    }
    const a = (await must('owner', CREATE, { input: { ...communityA, slug: unique('alpha') } })).createCommunity;
    const inviteA = (await must('owner', INVITE, { c: a.id })).createInvite;
    await enrol({ id: a.id, code: inviteA.code }, role === 'banned' ? 'member' : role, async () => (await must('owner', CREATE_ROLE, { c: a.id, n: 'Curator', p: ['manage_circles', 'view_audit_log'] })).createRole.id);
    if (role === 'banned') await must('owner', BAN, { c: a.id, u: ids.banned });
    await must('victim', JOIN_BY_INVITE, { code: inviteA.code });
    return {
      A: { id: a.id, slug: a.slug, publicCenterId: a.publicCenter.id, inviteCode: inviteA.code, speakerRoleId: none, unusedRoleId: none, openCircleId: none, hiddenCircleId: none, joinedCircleId: none },
      B: shared.B,
    };
  }

  /** Everything about the shared world that a cell must not change (the victim, applicant and fresh objects aside). */
  async function snapshot(w: World): Promise<string> {
    const communities = [w.A.id, w.B.id];
    const spaces = [w.A.openCircleId, w.A.hiddenCircleId, w.A.joinedCircleId, w.B.openCircleId];
    const skip = [ids.victim, ids.applicant];
    return JSON.stringify({
      communities: await rows(sql`select id, owner_id, archived_at is not null as archived, visibility, join_policy from community.communities where id in (${sql.join(communities)}) order by id`),
      members: await rows(sql`select community_id, user_id, role, coalesce(timed_out_until > now(), false) as timed_out from community.members where community_id in (${sql.join(communities)}) and user_id not in (${sql.join(skip)}) order by 1, 2`),
      bans: await rows(sql`select community_id, user_id from community.bans where community_id in (${sql.join(communities)}) and user_id not in (${sql.join(skip)}) order by 1, 2`),
      memberRoles: await rows(sql`select community_id, user_id, role_id from community.member_roles where community_id in (${sql.join(communities)}) and user_id not in (${sql.join(skip)}) order by 1, 2, 3`),
      roles: await rows(sql`select id, name, permissions from community.roles where community_id in (${sql.join(communities)}) and name in ('Curator', 'Speaker', 'Unused') order by id`),
      circleMembers: await rows(sql`select space_id, user_id, role from community.circle_members where space_id in (${sql.join(spaces)}) and user_id not in (${sql.join(skip)}) order by 1, 2`),
      circles: await rows(sql`select id, access, hidden from community.spaces where id in (${sql.join(spaces)}) order by id`),
      overrides: await rows(sql`select space_id, subject, allow, deny from community.space_overrides where space_id in (${sql.join([...spaces, w.A.publicCenterId, w.B.publicCenterId])}) order by 1, 2`),
    });
  }

  /** The set-up helpers an entry may call, for one cell. */
  function fixture(world: World, role: Role): Fixture {
    const ownerOf = (s: Side): Person => (s === 'A' ? 'owner' : 'otherOwner');
    const c = (s: Side) => world[s];
    const victimState = async (s: Side) => {
      const [st] = await rows<{ role: string | null; banned: boolean; speaker: boolean }>(sql`select
          (select role from community.members where community_id = ${c(s).id} and user_id = ${ids.victim}) as role,
          exists (select 1 from community.bans where community_id = ${c(s).id} and user_id = ${ids.victim}) as banned,
          exists (select 1 from community.member_roles where community_id = ${c(s).id} and user_id = ${ids.victim} and role_id = ${c(s).speakerRoleId || null}) as speaker`);
      return st!;
    };
    const f: Fixture = {
      world,
      role,
      actorId: role === 'anonymous' ? null : ids[role],
      ids,
      unique,
      async freshInvite(s) {
        return (await must(ownerOf(s), INVITE, { c: c(s).id })).createInvite;
      },
      async freshRole(s) {
        return (await must(ownerOf(s), CREATE_ROLE, { c: c(s).id, n: unique('Temp'), p: ['post'] })).createRole.id;
      },
      async freshCircle(s, opts) {
        const circle = (await must(ownerOf(s), CREATE_CIRCLE, { c: c(s).id, i: { name: unique('Room'), access: opts.access, hidden: opts.hidden } })).createCircle;
        if (s === 'A') {
          await must('owner', LEAVE_CIRCLE, { s: circle.id });
          if (opts.withActor && membersOfA.includes(role)) await must('owner', ADD_TO_CIRCLE, { s: circle.id, u: ids[role as Person] });
        }
        return circle;
      },
      async victimMember(s) {
        const st = await victimState(s);
        if (st.banned) await must(ownerOf(s), UNBAN, { c: c(s).id, u: ids.victim });
        if (!st.role) await must('victim', JOIN_BY_INVITE, { code: c(s).inviteCode });
        if (st.role && st.role !== 'member') await must(ownerOf(s), SET_ROLE, { c: c(s).id, u: ids.victim, r: 'MEMBER' });
        if (st.speaker) await must(ownerOf(s), UNASSIGN, { c: c(s).id, u: ids.victim, r: c(s).speakerRoleId });
        return ids.victim;
      },
      async victimBanned(s) {
        if (!(await victimState(s)).banned) await must(ownerOf(s), BAN, { c: c(s).id, u: ids.victim });
        return ids.victim;
      },
      async victimHasSpeaker(s) {
        await f.victimMember(s);
        await must(ownerOf(s), ASSIGN, { c: c(s).id, u: ids.victim, r: c(s).speakerRoleId });
        return ids.victim;
      },
      async victimInCircle(s, circleId, inCircle) {
        const [row] = await rows(sql`select 1 from community.circle_members where space_id = ${circleId} and user_id = ${ids.victim}`);
        if (inCircle && !row) await must(ownerOf(s), ADD_TO_CIRCLE, { s: circleId, u: ids.victim });
        if (!inCircle && row) await must(ownerOf(s), REMOVE_FROM_CIRCLE, { s: circleId, u: ids.victim });
        return ids.victim;
      },
      async pendingRequest(s) {
        if (s === 'B') return world.B.pendingRequestId;
        const [r] = await rows<{ id: string }>(sql`select id from community.join_requests where community_id = ${world.A.id} and user_id = ${ids.applicant} and status = 'pending'`);
        return r?.id ?? (await must('applicant', REQUEST, { c: world.A.id })).requestToJoin.id;
      },
      async archive(s) {
        await must(ownerOf(s), ARCHIVE, { c: c(s).id, s: c(s).slug });
      },
      async row(query, ...params) {
        return (await db.executeQuery<Record<string, any>>(CompiledQuery.raw(query, params))).rows[0];
      },
    };
    return f;
  }

  // ---- one cell --------------------------------------------------------------------------------------------------

  function identityOf(role: Role): Identity {
    return { userId: role === 'anonymous' ? null : ids[role], sessionId: role === 'anonymous' ? null : `matrix-${role}`, ip: '198.51.100.7', userAgent: 'authz-matrix', requestId: unique('req'), credential: role === 'anonymous' ? null : 'bearer' };
  }

  /** What actually happened, in the matrix's vocabulary. */
  function outcomeOf(op: Operation, field: string, r: { data?: any; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] | undefined }, t: Target, f: Fixture): { outcome: string; detail?: string } {
    if (r.errors?.length) {
      const code = String(r.errors[0]!.extensions?.code ?? 'NO_CODE');
      const leaked = field === '_entities' ? r.data?._entities?.[0] : r.data?.[field];
      return { outcome: leaked != null ? `${code} (with data!)` : code, detail: r.errors[0]!.message };
    }
    const v = field === '_entities' ? r.data?._entities?.[0] : r.data?.[field];
    if (v === null || v === undefined) return { outcome: 'null' };
    if (v === false) return { outcome: 'false' };
    if (Array.isArray(v)) {
      if (op.includes) return { outcome: op.includes(r.data, t, f) ? 'ok' : 'absent' };
      return { outcome: v.length ? 'ok' : 'empty' };
    }
    return { outcome: 'ok' };
  }

  async function runCell(name: string, op: Operation, role: Role, t: Target, expected: Outcome): Promise<string | null> {
    const fresh = op.world === 'fresh' || (op.world === 'freshIfAllowed' && expected === 'ok');
    const world = fresh ? await buildFreshWorld(role, t) : shared;
    const f = fixture(world, role);
    const variables = await op.vars(t, f);
    const document = op.document;
    let result: { data?: any; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };
    if (name.startsWith('Entity.')) {
      tally.requests++;
      const r = await entities(identityOf(role), document, variables);
      result = { data: r.data, errors: r.errors?.map((e) => ({ message: e.message, extensions: e.extensions })) };
    } else {
      const r = await gql(role === 'anonymous' ? null : role, document, variables);
      result = { data: r.data, errors: r.errors };
    }
    const field = rootField(document);
    const { outcome, detail } = outcomeOf(op, field, result, t, f);
    if (outcome !== expected) return `${role} × ${t}: expected ${expected}, got ${outcome}${detail ? ` (${detail})` : ''}`;
    if (outcome === 'ok' && op.check) {
      const complaint = await op.check(result.data, t, f, variables);
      if (complaint) return `${role} × ${t}: ok, but ${complaint}`;
    }
    return null;
  }

  const rootField = (document: string) => {
    const def = parse(document).definitions[0]!;
    if (def.kind !== Kind.OPERATION_DEFINITION) throw new Error('matrix documents hold one operation');
    const sel = def.selectionSet.selections[0]!;
    if (sel.kind !== Kind.FIELD) throw new Error('the first selection must be the field under test');
    return sel.name.value;
  };

  // ---- the platform ----------------------------------------------------------------------------------------------

  beforeAll(async () => {
    p = await startTestPlatform('embedded');
    db = p.infra.database!.db as Kysely<any>;
    let n = 0;
    for (const who of people) {
      const r = await p.gql(
        `mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`,
        { input: { email: `${who.toLowerCase()}@matrix.example`, password: pw, handle: `m_${who.toLowerCase()}`, displayName: `Matrix ${who}`, delivery: 'BEARER' } },
        { ip: `203.0.113.${++n}` },
      );
      if (!r.data) throw new Error(`sign-up of ${who} failed: ${JSON.stringify(r.errors)}`);
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }

    // A second community subgraph over the same database and infrastructure, for `_entities`.
    const log = createLogger('warn', { test: 'authz-matrix' });
    const deps = { ...p.infra, config: p.host.config, log, db, outbox: new Outbox('community'), mailer: p.infra.mailer!, apis: p.host.apis! } as unknown as ServiceDeps;
    const instance = await communityService.create(deps);
    const exec = createInProcessExecutor(buildServiceSchema(communityService.typeDefs, instance.resolvers), p.infra.gatewaySecret, log);
    entities = async (identity, document, variables) =>
      (await exec({ document: parse(document), variables, context: { [IDENTITY_CONTEXT_KEY]: signIdentity(p.infra.gatewaySecret, identity) } })) as ExecutionResult;

    shared = await buildSharedWorld();
    baseline = await snapshot(shared);
    tally.setupMs = Date.now() - tally.started;
  });

  afterAll(async () => {
    const seconds = ((Date.now() - tally.started) / 1000).toFixed(1);
    console.log(
      `community authz matrix: ${tally.ops} operations × ${roles.length} roles × ${targets.length} targets = ${tally.ops * roles.length * targets.length} cells; ` +
        `${tally.cells} asserted, ${tally.na} not applicable; ${tally.requests} requests (set-up included) in ${seconds}s ` +
        `(platform, sign-ups and fixture ${(tally.setupMs / 1000).toFixed(1)}s)`,
    );
    await p?.stop();
  });

  // ---- coverage --------------------------------------------------------------------------------------------------

  it('has an entry for every operation of the Community schema, and none for operations it no longer has', () => {
    const inSchema = new Set(schemaOperations());
    const inMatrix = new Set(Object.keys(matrix));
    const missing = [...inSchema].filter((o) => !inMatrix.has(o));
    const stale = [...inMatrix].filter((o) => !inSchema.has(o));
    expect(missing, `operations without a matrix entry (add them to tests/security/community-authz-matrix.ts): ${missing.join(', ')}`).toEqual([]);
    expect(stale, `matrix entries for operations the schema no longer has: ${stale.join(', ')}`).toEqual([]);
  });

  it('the fixture is what the matrix assumes', async () => {
    // The roles in A, as A's owner sees them; the banned user gone from A and from J.
    const r = await gql('owner', `query($id: ID!) { communityMembers(communityId: $id, first: 200) { role timedOutUntil user { id } customRoles { name } } }`, { id: shared.A.id });
    const byId = new Map((r.data.communityMembers as { role: string; timedOutUntil: string | null; user: { id: string }; customRoles: { name: string }[] }[]).map((m) => [m.user.id, m]));
    expect(byId.get(ids.owner)?.role).toBe('OWNER');
    expect(byId.get(ids.admin)?.role).toBe('ADMIN');
    expect(byId.get(ids.moderator)?.role).toBe('MODERATOR');
    expect(byId.get(ids.member)?.role).toBe('MEMBER');
    expect(byId.get(ids.custom)?.customRoles.map((c) => c.name)).toEqual(['Curator']);
    expect(byId.get(ids.timedOut)?.timedOutUntil).toBeTruthy();
    expect(byId.has(ids.banned)).toBe(false);
    expect(byId.has(ids.nonMember)).toBe(false);
    const [inB] = await rows<{ n: number }>(sql`select count(*)::int as n from community.members where community_id = ${shared.B.id} and user_id in (${sql.join(roles.filter((x) => x !== 'anonymous').map((x) => ids[x as Person]))})`);
    expect(inB!.n).toBe(0);
  });

  // ---- the matrix ------------------------------------------------------------------------------------------------

  for (const [name, op] of Object.entries(matrix)) {
    it(`${name}: every cell has its allowed outcome`, async () => {
      tally.ops++;
      const wrong: string[] = [];
      for (const role of roles) {
        for (const t of targets) {
          const spec = op.expect[t];
          const cell: Cell = typeof spec === 'string' || isNa(spec as Cell) ? (spec as Cell) : (spec as Record<Role, Cell>)[role];
          if (isNa(cell)) {
            tally.na++;
            continue;
          }
          tally.cells++;
          try {
            const problem = await runCell(name, op, role, t, cell);
            if (problem) wrong.push(problem);
          } catch (err) {
            wrong.push(`${role} × ${t}: set-up or call failed: ${(err as Error).message}`);
          }
        }
      }
      const now = await snapshot(shared);
      if (now !== baseline) {
        wrong.push(`the operation changed the shared fixture (rebuilt for the next operations):\n  before ${baseline}\n  after  ${now}`);
        shared = await buildSharedWorld();
        baseline = await snapshot(shared);
      }
      expect(wrong, `${name}: ${wrong.length} wrong cell(s)`).toEqual([]);
    });
  }
});
