/**
 * The authorization matrix of the Community service: every query and mutation of its subgraph (and its federation
 * entity resolvers) × every kind of actor × every kind of target, each cell with exactly one allowed outcome.
 * `community-authz-matrix.test.ts` runs it against a real embedded platform and fails on any cell that differs, on
 * any operation in the schema without an entry here, and on any entry for an operation the schema no longer has.
 *
 * Actors (roles), all in community A (the "own community") unless said otherwise:
 * - anonymous: no token.
 * - nonMember: signed in, never a member of A.
 * - member, moderator, admin, owner: A's built-in roles.
 * - banned: was a member of A (and of its hidden circle J), then banned permanently; so no longer a member.
 * - timedOut: a plain member of A under a 28-day timeout (loses post, comment, chat and speak; the schema says the
 *   member "may not take part (post, comment, chat, speak)" and "keeps their membership", so everything else stays).
 * - custom: a plain member holding the custom role "Curator" = manage_circles + view_audit_log. Chosen because
 *   both permissions open doors a plain member does not have (create/edit/delete circles, see hidden circles,
 *   add people to circles, read and verify the audit log) while leaving every member-management door shut, and
 *   manage_circles also lifts the effective rank to 1.5 (above members, below moderators).
 *
 * Targets:
 * - own: community A: LISTED, join policy APPROVAL with one question. For circle operations its open, visible
 *   circle "Lobby" the actor has not joined; for space operations (overrides, permissions, Space entity) A's
 *   Public Center.
 * - other: community B, PRIVATE, owned by someone else; none of the actors is a member (does a role in A leak
 *   into B?). For circle operations B's open circle; for space operations B's Public Center.
 * - hiddenCircle: A's hidden, invite-only circle H that the actor has not joined (nobody but a bystander has).
 * - joinedCircle: A's hidden, invite-only circle J the actor is a member of (a plain circle member, not a host).
 *   Anonymous, non-members and the banned user cannot be in a circle; for them this is "a hidden circle of A
 *   they are not in" and the expected outcome is the refusal (the banned user WAS in J before the ban: the ban
 *   must have ended that).
 *
 * Outcomes: 'ok' (the operation answered, and for list answers the target is in the list), an error code
 * (`extensions.code`), 'null' (hidden rather than refused), 'empty' (an empty list), 'absent' (a list without
 * the target), 'false' (a Boolean mutation that did nothing). `na(reason)` marks a target that does not apply.
 */

export const roles = ['anonymous', 'nonMember', 'member', 'moderator', 'admin', 'owner', 'banned', 'timedOut', 'custom'] as const;
export type Role = (typeof roles)[number];
export const targets = ['own', 'other', 'hiddenCircle', 'joinedCircle'] as const;
export type Target = (typeof targets)[number];

export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'CONFLICT' | 'INVALID_TOKEN';
export type Outcome = 'ok' | 'null' | 'empty' | 'absent' | 'false' | ErrorCode;
export interface NotApplicable {
  na: string;
}
export type Cell = Outcome | NotApplicable;
export type RoleCells = Record<Role, Cell>;

/** Every user of the fixture. Actors are the roles above; the others only set the scene. */
export type Person = Exclude<Role, 'anonymous'> | 'otherOwner' | 'bystander' | 'victim' | 'applicant';

export interface CommunityIds {
  id: string;
  slug: string;
  publicCenterId: string;
  /** A standing, unlimited invite code. */
  inviteCode: string;
  /** Custom roles: "Speaker" (post) to assign and unassign, "Unused" (nobody holds it) as an override subject. */
  speakerRoleId: string;
  unusedRoleId: string;
  /** A: the open visible circle "Lobby"; B: its open circle. ('' in a fresh world, which has no circles.) */
  openCircleId: string;
}
export interface World {
  A: CommunityIds & { hiddenCircleId: string; joinedCircleId: string };
  B: CommunityIds & { pendingRequestId: string };
}

export type Side = 'A' | 'B';

/** What an entry may use to build its variables: the world of the cell and set-up helpers (run as owners). */
export interface Fixture {
  readonly world: World;
  readonly role: Role;
  /** The actor's user id (null for anonymous). */
  readonly actorId: string | null;
  readonly ids: Record<Person, string>;
  /** A name no earlier cell used. */
  unique(prefix: string): string;
  freshInvite(side: Side): Promise<{ id: string; code: string }>;
  freshRole(side: Side): Promise<string>;
  /** A new circle made by the side's owner, who then leaves it (A) unless the actor is the one to be in it. */
  freshCircle(side: Side, opts: { hidden: boolean; access: 'OPEN' | 'INVITE'; withActor: boolean }): Promise<{ id: string; name: string }>;
  /** The victim as a plain member of that side's community: not banned, role MEMBER, without the Speaker role. */
  victimMember(side: Side): Promise<string>;
  victimBanned(side: Side): Promise<string>;
  victimHasSpeaker(side: Side): Promise<string>;
  victimInCircle(side: Side, circleId: string, inCircle: boolean): Promise<string>;
  /** A pending request to join (A: by the applicant, fresh; B: the one it got while it was still listed). */
  pendingRequest(side: Side): Promise<string>;
  archive(side: Side): Promise<void>;
  /** Reads the database directly ($1, $2… parameters), to see what an 'ok' cell did. */
  row(query: string, ...params: unknown[]): Promise<Record<string, any> | undefined>;
}

type Vars = Record<string, unknown>;

export interface Operation {
  /** The GraphQL document; its first root field is the operation under test (entities: `_entities`). */
  document: string;
  /**
   * 'shared': cells run against one fixture, which must come out unchanged (checked after every operation; the
   * victim, the applicant and fresh objects are exempt). 'fresh': every cell gets a new community to aim at — a
   * new A holding only the actor (in its role) and the victim, or a new private B — for operations that end or
   * transform the community itself, or let the actor in. 'freshIfAllowed': only the cells expected to succeed
   * do (a refusal changes nothing, and one that wrongly succeeds is caught by the fixture check).
   */
  world?: 'shared' | 'fresh' | 'freshIfAllowed';
  vars(target: Target, f: Fixture): Vars | Promise<Vars>;
  expect: Record<Target, Cell | RoleCells>;
  /** For list answers: is the target in the list? ('ok' if so, else 'absent'.) */
  includes?(data: any, target: Target, f: Fixture): boolean;
  /** A look at the data (and effect) of an 'ok' cell; returns a complaint, or nothing when fine. */
  check?(data: any, target: Target, f: Fixture, vars: Vars): string | undefined | void | Promise<string | undefined | void>;
}

// ---- notation ----------------------------------------------------------------------------------------------------

const U = 'UNAUTHENTICATED' as const;
const F = 'FORBIDDEN' as const;
const NF = 'NOT_FOUND' as const;

export const na = (reason: string): NotApplicable => ({ na: reason });
export const isNa = (c: unknown): c is NotApplicable => typeof c === 'object' && c !== null && 'na' in c;

/** Cells per role; `rest` covers every role not named. */
function by(cells: Partial<Record<Role, Cell>> & { rest?: Cell }): RoleCells {
  const out = {} as RoleCells;
  for (const r of roles) {
    const c = cells[r] ?? cells.rest;
    if (c === undefined) throw new Error(`matrix: no cell for role ${r}`);
    out[r] = c;
  }
  return out;
}

/** Role groups, to read the tables below. */
const inA = ['member', 'moderator', 'admin', 'owner', 'timedOut', 'custom'] as const; // members of A (and of J)
const managers = { custom: 'ok', admin: 'ok', owner: 'ok' } as const; // manage_circles: see hidden circles
const each = (roleList: readonly Role[], c: Cell) => Object.fromEntries(roleList.map((r) => [r, c])) as Partial<Record<Role, Cell>>;

const communityOnly = na('takes a community, not a circle');
const circlesNa = { hiddenCircle: communityOnly, joinedCircle: communityOnly };

/** Refusals of a permission-gated community operation: anonymous must sign in; B (private, no role) stays invisible. */
const otherNotFound = by({ anonymous: U, rest: NF });

/** Cells of an operation needing `allowed` in A (listed: outsiders see it, so they are refused, not kept in the dark). */
const gatedInA = (...allowed: Role[]) => by({ anonymous: U, ...each(allowed, 'ok'), rest: F });

/** The community a target lives in: B for "other", A for the rest. */
const community = (t: Target, w: World) => (t === 'other' ? w.B : w.A);
const side = (t: Target): Side => (t === 'other' ? 'B' : 'A');
/** The circle a circle operation is aimed at. */
const circleOf = (t: Target, w: World) => ({ own: w.A.openCircleId, other: w.B.openCircleId, hiddenCircle: w.A.hiddenCircleId, joinedCircle: w.A.joinedCircleId })[t];
/** The space a space operation is aimed at (Public Centers for the community targets). */
const spaceOf = (t: Target, w: World) => ({ own: w.A.publicCenterId, other: w.B.publicCenterId, hiddenCircle: w.A.hiddenCircleId, joinedCircle: w.A.joinedCircleId })[t];

const roleName: Partial<Record<Role, string>> = { member: 'MEMBER', timedOut: 'MEMBER', custom: 'MEMBER', moderator: 'MODERATOR', admin: 'ADMIN', owner: 'OWNER' };
const all = ['manage_community', 'manage_circles', 'manage_members', 'manage_roles', 'moderate_content', 'post', 'comment', 'chat', 'speak', 'invite', 'view_audit_log'];
const participate = ['post', 'comment', 'chat', 'speak', 'invite'];
/** What myPermissions must list for each actor of A (in the Public Center, or in a circle they may act in). */
const permissionsOf: Partial<Record<Role, string[]>> = {
  member: participate,
  timedOut: ['invite'], // a timeout takes post, comment, chat and speak; inviting is not "taking part"
  custom: [...participate, 'manage_circles', 'view_audit_log'],
  moderator: [...participate, 'moderate_content', 'manage_members', 'view_audit_log'],
  admin: all,
  owner: all,
};
const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

const mayManageCircles = (r: Role) => r === 'custom' || r === 'admin' || r === 'owner';
const inJ = (r: Role) => (inA as readonly string[]).includes(r);

// ---- the matrix ---------------------------------------------------------------------------------------------------

export const matrix: Record<string, Operation> = {
  // ============================== queries ==============================
  'Query.community': {
    document: `query($slug: String!) { community(slug: $slug) { id viewerRole memberCount circles { id } viewerJoinRequest { id } } }`,
    vars: (t, f) => ({ slug: community(t, f.world).slug }),
    expect: { own: by({ rest: 'ok' }), other: by({ rest: 'null' }), ...circlesNa },
    check(d, _t, f) {
      const c = d.community;
      if (c.viewerRole !== (roleName[f.role] ?? null)) return `viewerRole ${c.viewerRole}`;
      const ids = c.circles.map((x: { id: string }) => x.id);
      if (!ids.includes(f.world.A.openCircleId)) return 'the open circle is missing';
      if (ids.includes(f.world.A.hiddenCircleId) !== mayManageCircles(f.role)) return `hidden circle H listed: ${ids.includes(f.world.A.hiddenCircleId)}`;
      if (ids.includes(f.world.A.joinedCircleId) !== inJ(f.role)) return `hidden circle J listed: ${ids.includes(f.world.A.joinedCircleId)}`;
      if (c.viewerJoinRequest !== null) return 'someone else’s join request shown';
    },
  },

  'Query.communities': {
    // No arguments: the public directory. "own" = A (listed) must be in it, "other" = B (private) must not.
    document: `query { communities(first: 100) { id } }`,
    vars: () => ({}),
    includes: (d, t, f) => d.communities.some((c: { id: string }) => c.id === community(t, f.world).id),
    expect: { own: by({ rest: 'ok' }), other: by({ rest: 'absent' }), ...circlesNa },
  },

  'Query.myCommunities': {
    document: `query { myCommunities { id viewerRole } }`,
    vars: () => ({}),
    includes: (d, t, f) => d.myCommunities.some((c: { id: string }) => c.id === community(t, f.world).id),
    expect: { own: by({ anonymous: U, nonMember: 'absent', banned: 'absent', rest: 'ok' }), other: by({ anonymous: U, rest: 'absent' }), ...circlesNa },
  },

  'Query.communityMembers': {
    document: `query($id: ID!) { communityMembers(communityId: $id, first: 200) { role user { id } customRoles { id } } }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    // "For members of the community only": outsiders of the listed A are refused. Anonymous gets FORBIDDEN, not
    // UNAUTHENTICATED, as services/community/test pins ("not for outsiders, even when listed"): refused either way.
    expect: { own: by({ anonymous: F, nonMember: F, banned: F, rest: 'ok' }), other: by({ rest: NF }), ...circlesNa },
    check(d, _t, f) {
      const list = d.communityMembers as { role: string; user: { id: string }; customRoles: { id: string }[] }[];
      if (!list.some((m) => m.user.id === f.ids.owner && m.role === 'OWNER')) return 'owner missing';
      if (list.some((m) => m.user.id === f.ids.banned)) return 'the banned user is still listed';
      const custom = list.find((m) => m.user.id === f.ids.custom);
      if (custom?.customRoles.length !== 1) return 'the Curator role is not shown on its holder';
    },
  },

  'Query.auditLog': {
    document: `query($id: ID!) { auditLog(communityId: $id, first: 5) { sequence action } }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    expect: { own: gatedInA('custom', 'moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.auditLog.length ? undefined : 'no records'),
  },

  'Query.verifyAuditChain': {
    document: `query($id: ID!) { verifyAuditChain(communityId: $id) { valid recordsChecked } }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    expect: { own: gatedInA('custom', 'moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.verifyAuditChain.valid && d.verifyAuditChain.recordsChecked > 5 ? undefined : JSON.stringify(d.verifyAuditChain)),
  },

  'Query.communityBans': {
    document: `query($id: ID!) { communityBans(communityId: $id) { user { id } } }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d, _t, f) => (d.communityBans.some((b: { user: { id: string } }) => b.user.id === f.ids.banned) ? undefined : 'the ban is missing'),
  },

  'Query.communityInvites': {
    document: `query($id: ID!) { communityInvites(communityId: $id) { code } }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    // "members who may invite": every member, including a timed-out one (a timeout does not take `invite`). They
    // see their own links; people who manage members (moderator and up) see everyone's, the owner's standing one too.
    // The plain members made no invite in the shared fixture, so their own list is empty.
    expect: { own: by({ anonymous: U, ...each(['moderator', 'admin', 'owner'], 'ok'), ...each(['member', 'timedOut', 'custom'], 'empty'), rest: F }), other: otherNotFound, ...circlesNa },
    check: (d, _t, f) => {
      const seesStanding = d.communityInvites.some((i: { code: string }) => i.code === f.world.A.inviteCode);
      const manages = f.role === 'moderator' || f.role === 'admin' || f.role === 'owner';
      if (manages && !seesStanding) return "standing invite missing for a members manager";
      if (!manages && seesStanding) return "a plain member sees someone else's invite";
    },
  },

  'Query.communityRoles': {
    document: `query($id: ID!) { communityRoles(communityId: $id) { id name permissions } }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    // A community's roles and what they grant are its inner workings: like its member directory (and like
    // Discord, where you see a server's roles only once you are in it), for members only. Anonymous: FORBIDDEN,
    // the same answer the member directory gives.
    expect: { own: by({ anonymous: F, nonMember: F, banned: F, rest: 'ok' }), other: by({ rest: NF }), ...circlesNa },
    check: (d, _t, f) => (d.communityRoles.some((r: { id: string }) => r.id === f.world.A.speakerRoleId) ? undefined : 'Speaker role missing'),
  },

  'Query.spaceOverrides': {
    document: `query($id: ID!) { spaceOverrides(spaceId: $id) { subject } }`,
    vars: (t, f) => ({ id: spaceOf(t, f.world) }),
    // Needs manage_roles. A hidden circle the actor may not see answers NOT_FOUND, like a space that does not exist:
    // FORBIDDEN would confirm that the hidden circle is there.
    expect: {
      own: gatedInA('admin', 'owner'),
      other: otherNotFound,
      hiddenCircle: by({ anonymous: U, custom: F, admin: 'ok', owner: 'ok', rest: NF }),
      joinedCircle: by({ anonymous: U, nonMember: NF, banned: NF, admin: 'ok', owner: 'ok', rest: F }),
    },
    check: (d, t, f) => (d.spaceOverrides.some((o: { subject: string }) => o.subject === community(t, f.world).unusedRoleId) ? undefined : 'the override is missing'),
  },

  'Query.myPermissions': {
    document: `query($c: ID!, $s: ID) { myPermissions(communityId: $c, spaceId: $s) }`,
    vars: (t, f) => ({ c: t === 'other' ? f.world.B.id : f.world.A.id, s: t === 'hiddenCircle' ? f.world.A.hiddenCircleId : t === 'joinedCircle' ? f.world.A.joinedCircleId : null }),
    // In a circle you act only as its member, unless you manage circles (then you need not join).
    expect: {
      own: by({ anonymous: 'empty', nonMember: 'empty', banned: 'empty', rest: 'ok' }),
      other: by({ rest: 'empty' }),
      hiddenCircle: by({ ...managers, rest: 'empty' }),
      joinedCircle: by({ anonymous: 'empty', nonMember: 'empty', banned: 'empty', rest: 'ok' }),
    },
    check: (d, _t, f) => (sameSet(d.myPermissions, permissionsOf[f.role]!) ? undefined : `got ${[...d.myPermissions].sort().join(',')}`),
  },

  'Query.circle': {
    document: `query($id: ID!) { circle(id: $id) { id hidden viewerIsMember community { id } } }`,
    vars: (t, f) => ({ id: circleOf(t, f.world) }),
    // "A circle, if the viewer may see it": hidden ones only for their members and circle managers; B's not at all.
    expect: {
      own: by({ rest: 'ok' }),
      other: by({ rest: 'null' }),
      hiddenCircle: by({ ...managers, rest: 'null' }),
      joinedCircle: by({ anonymous: 'null', nonMember: 'null', banned: 'null', rest: 'ok' }),
    },
    check(d, t, f) {
      if (d.circle.id !== circleOf(t, f.world) || d.circle.community.id !== f.world.A.id) return 'wrong circle';
      if (d.circle.viewerIsMember !== (t === 'joinedCircle')) return `viewerIsMember ${d.circle.viewerIsMember}`;
    },
  },

  'Query.circleMembers': {
    document: `query($id: ID!) { circleMembers(circleId: $id) { user { id } role } }`,
    vars: (t, f) => ({ id: circleOf(t, f.world) }),
    // Community members may see who is in a circle they can see. Anonymous on the visible Lobby: FORBIDDEN (the
    // member-directory answer); on circles they may not see: NOT_FOUND like everyone else.
    expect: {
      own: by({ anonymous: F, nonMember: F, banned: F, rest: 'ok' }),
      other: by({ rest: NF }),
      hiddenCircle: by({ ...managers, rest: NF }),
      joinedCircle: by({ anonymous: NF, nonMember: NF, banned: NF, rest: 'ok' }),
    },
    check: (d, _t, f) => (d.circleMembers.some((m: { user: { id: string } }) => m.user.id === f.ids.bystander) ? undefined : 'bystander missing'),
  },

  'Query.invitePreview': {
    document: `query($code: String!) { invitePreview(code: $code) { communityId valid } }`,
    vars: (t, f) => ({ code: community(t, f.world).inviteCode }),
    // "Anyone holding the code may see which community it opens", a private one included: the code is the secret.
    expect: { own: by({ rest: 'ok' }), other: by({ rest: 'ok' }), ...circlesNa },
    check: (d, _t, f) => (d.invitePreview.valid && [f.world.A.id, f.world.B.id].includes(d.invitePreview.communityId) ? undefined : JSON.stringify(d.invitePreview)),
  },

  'Query.joinRequests': {
    document: `query($id: ID!) { joinRequests(communityId: $id) { id status user { id } } }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d, _t, f) => (d.joinRequests.some((r: { user: { id: string } }) => r.user.id === f.ids.applicant) ? undefined : `the applicant's request is missing`),
  },

  // ============================== mutations ==============================
  'Mutation.createCommunity': {
    document: `mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id viewerRole } }`,
    vars: (_t, f) => ({ input: { name: 'Fresh Start', slug: f.unique('fresh') } }),
    // Anyone signed in may start a community (a ban elsewhere does not matter); it has no existing target.
    expect: { own: by({ anonymous: U, rest: 'ok' }), other: na('creates a new community: there is no other one to aim at'), ...circlesNa },
    check: (d) => (d.createCommunity.viewerRole === 'OWNER' ? undefined : 'creator is not the owner'),
  },

  'Mutation.updateCommunity': {
    document: `mutation($id: ID!, $input: UpdateCommunityInput!) { updateCommunity(id: $id, input: $input) { id description } }`,
    vars: (t, f) => ({ id: community(t, f.world).id, input: { description: f.unique('edited by') } }),
    expect: { own: gatedInA('admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d, _t, _f, v) => (d.updateCommunity.description === (v.input as { description: string }).description ? undefined : 'description not changed'),
  },

  'Mutation.joinCommunity': {
    document: `mutation($id: ID!) { joinCommunity(id: $id) { id viewerRole } }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    // A reviews members: outsiders must send a request (FORBIDDEN), the banned user is refused; members: a no-op.
    // B is private: FORBIDDEN ("ask a member for an invite"), as services/community/test pins.
    expect: { own: by({ anonymous: U, nonMember: F, banned: F, rest: 'ok' }), other: by({ anonymous: U, rest: F }), ...circlesNa },
    check: (d, _t, f) => (d.joinCommunity.viewerRole === roleName[f.role] ? undefined : `role became ${d.joinCommunity.viewerRole}`),
  },

  'Mutation.leaveCommunity': {
    world: 'freshIfAllowed',
    document: `mutation($id: ID!) { leaveCommunity(id: $id) }`,
    vars: (t, f) => ({ id: community(t, f.world).id }),
    expect: {
      own: by({ anonymous: U, nonMember: 'false', banned: 'false', owner: 'BAD_USER_INPUT', rest: 'ok' }),
      other: by({ anonymous: U, rest: 'false' }),
      ...circlesNa,
    },
    check: async (_d, t, f) => ((await f.row('select 1 from community.members where community_id = $1 and user_id = $2', community(t, f.world).id, f.actorId)) ? 'still a member' : undefined),
  },

  'Mutation.setMemberRole': {
    document: `mutation($c: ID!, $u: ID!) { setMemberRole(communityId: $c, userId: $u, role: MODERATOR) { role user { id } } }`,
    vars: async (t, f) => ({ c: community(t, f.world).id, u: await f.victimMember(side(t)) }),
    // manage_roles, and only roles below your own: admins and the owner may make a member a moderator.
    expect: { own: gatedInA('admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.setMemberRole.role === 'MODERATOR' ? undefined : d.setMemberRole.role),
  },

  'Mutation.removeMember': {
    document: `mutation($c: ID!, $u: ID!) { removeMember(communityId: $c, userId: $u, reason: "matrix") }`,
    vars: async (t, f) => ({ c: community(t, f.world).id, u: await f.victimMember(side(t)) }),
    // manage_members and outranking the member; Curator's rank 1.5 does not bring manage_members.
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.members where community_id = $1 and user_id = $2', v.c, v.u)) ? 'still a member' : undefined),
  },

  'Mutation.banMember': {
    document: `mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "matrix") { user { id } expiresAt } }`,
    vars: async (t, f) => ({ c: community(t, f.world).id, u: await f.victimMember(side(t)) }),
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d, _t, f) => (d.banMember.user.id === f.ids.victim && d.banMember.expiresAt === null ? undefined : JSON.stringify(d.banMember)),
  },

  'Mutation.unbanMember': {
    document: `mutation($c: ID!, $u: ID!) { unbanMember(communityId: $c, userId: $u) }`,
    vars: async (t, f) => ({ c: community(t, f.world).id, u: await f.victimBanned(side(t)) }),
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.bans where community_id = $1 and user_id = $2', v.c, v.u)) ? 'still banned' : undefined),
  },

  'Mutation.timeoutMember': {
    document: `mutation($c: ID!, $u: ID!) { timeoutMember(communityId: $c, userId: $u, durationSeconds: 600, reason: "matrix") { user { id } timedOutUntil } }`,
    vars: async (t, f) => ({ c: community(t, f.world).id, u: await f.victimMember(side(t)) }),
    // moderate_content: moderators and up (Curator does not moderate).
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.timeoutMember.timedOutUntil ? undefined : 'no timeout set'),
  },

  'Mutation.clearTimeout': {
    document: `mutation($c: ID!, $u: ID!) { clearTimeout(communityId: $c, userId: $u) { user { id } timedOutUntil } }`,
    vars: async (t, f) => ({ c: community(t, f.world).id, u: await f.victimMember(side(t)) }),
    // Same rights as timing out: moderate_content, and only over members ranked below.
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.clearTimeout.timedOutUntil === null ? undefined : 'timeout still set'),
  },

  'Mutation.transferOwnership': {
    world: 'freshIfAllowed',
    document: `mutation($c: ID!, $u: ID!, $slug: String!) { transferOwnership(communityId: $c, userId: $u, confirmSlug: $slug) { id owner { id } viewerRole } }`,
    vars: (t, f) => ({ c: community(t, f.world).id, u: f.ids.victim, slug: community(t, f.world).slug }),
    // "Owner only": an admin holds manage_community but is refused.
    expect: { own: gatedInA('owner'), other: otherNotFound, ...circlesNa },
    check: (d, _t, f) => (d.transferOwnership.owner.id === f.ids.victim && d.transferOwnership.viewerRole === 'ADMIN' ? undefined : JSON.stringify(d.transferOwnership)),
  },

  'Mutation.archiveCommunity': {
    world: 'freshIfAllowed',
    document: `mutation($id: ID!, $slug: String!) { archiveCommunity(id: $id, confirmSlug: $slug) { id archived } }`,
    vars: (t, f) => ({ id: community(t, f.world).id, slug: community(t, f.world).slug }),
    expect: { own: gatedInA('owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.archiveCommunity.archived ? undefined : 'not archived'),
  },

  'Mutation.unarchiveCommunity': {
    world: 'fresh',
    document: `mutation($id: ID!) { unarchiveCommunity(id: $id) { id archived } }`,
    vars: async (t, f) => {
      await f.archive(side(t));
      return { id: community(t, f.world).id };
    },
    expect: { own: gatedInA('owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.unarchiveCommunity.archived ? 'still archived' : undefined),
  },

  'Mutation.deleteCommunity': {
    world: 'freshIfAllowed',
    document: `mutation($id: ID!, $slug: String!) { deleteCommunity(id: $id, confirmSlug: $slug) }`,
    vars: (t, f) => ({ id: community(t, f.world).id, slug: community(t, f.world).slug }),
    expect: { own: gatedInA('owner'), other: otherNotFound, ...circlesNa },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.communities where id = $1', v.id)) ? 'still there' : undefined),
  },

  'Mutation.setCommunityImage': {
    // uploadId null removes the image: the same authorization as setting one, without an upload (whether an
    // upload may be claimed is the media service's own check).
    document: `mutation($c: ID!) { setCommunityImage(communityId: $c, kind: AVATAR, uploadId: null) { id avatarUrl } }`,
    vars: (t, f) => ({ c: community(t, f.world).id }),
    // "Needs manage community".
    expect: { own: gatedInA('admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.setCommunityImage.avatarUrl === null ? undefined : 'avatar still set'),
  },

  'Mutation.createRole': {
    document: `mutation($c: ID!, $name: String!) { createRole(communityId: $c, name: $name, permissions: ["post"]) { id name permissions } }`,
    vars: (t, f) => ({ c: community(t, f.world).id, name: f.unique('Role') }),
    expect: { own: gatedInA('admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (sameSet(d.createRole.permissions, ['post']) ? undefined : d.createRole.permissions.join()),
  },

  'Mutation.updateRole': {
    document: `mutation($id: ID!, $name: String!) { updateRole(id: $id, name: $name) { id name } }`,
    vars: async (t, f) => ({ id: await f.freshRole(side(t)), name: f.unique('Renamed') }),
    expect: { own: gatedInA('admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d, _t, _f, v) => (d.updateRole.name === v.name ? undefined : `name ${d.updateRole.name}`),
  },

  'Mutation.deleteRole': {
    document: `mutation($id: ID!) { deleteRole(id: $id) }`,
    vars: async (t, f) => ({ id: await f.freshRole(side(t)) }),
    expect: { own: gatedInA('admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.roles where id = $1', v.id)) ? 'still there' : undefined),
  },

  'Mutation.assignRole': {
    document: `mutation($c: ID!, $u: ID!, $r: ID!) { assignRole(communityId: $c, userId: $u, roleId: $r) }`,
    vars: async (t, f) => ({ c: community(t, f.world).id, u: await f.victimMember(side(t)), r: community(t, f.world).speakerRoleId }),
    expect: { own: gatedInA('admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.member_roles where community_id = $1 and user_id = $2 and role_id = $3', v.c, v.u, v.r)) ? undefined : 'not assigned'),
  },

  'Mutation.unassignRole': {
    document: `mutation($c: ID!, $u: ID!, $r: ID!) { unassignRole(communityId: $c, userId: $u, roleId: $r) }`,
    vars: async (t, f) => ({ c: community(t, f.world).id, u: await f.victimHasSpeaker(side(t)), r: community(t, f.world).speakerRoleId }),
    expect: { own: gatedInA('admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.member_roles where community_id = $1 and user_id = $2 and role_id = $3', v.c, v.u, v.r)) ? 'still assigned' : undefined),
  },

  'Mutation.setSpaceOverride': {
    document: `mutation($s: ID!, $subject: String!) { setSpaceOverride(spaceId: $s, subject: $subject, allow: [], deny: ["chat"]) { subject deny } }`,
    // The subject is a custom role nobody holds, so a successful cell changes nobody's permissions.
    vars: (t, f) => ({ s: spaceOf(t, f.world), subject: t === 'other' ? f.world.B.unusedRoleId : f.world.A.unusedRoleId }),
    expect: {
      own: gatedInA('admin', 'owner'),
      other: otherNotFound,
      hiddenCircle: by({ anonymous: U, custom: F, admin: 'ok', owner: 'ok', rest: NF }),
      joinedCircle: by({ anonymous: U, nonMember: NF, banned: NF, admin: 'ok', owner: 'ok', rest: F }),
    },
    check: (d, _t, _f, v) => (d.setSpaceOverride.subject === v.subject && sameSet(d.setSpaceOverride.deny, ['chat']) ? undefined : JSON.stringify(d.setSpaceOverride)),
  },

  'Mutation.createInvite': {
    document: `mutation($c: ID!) { createInvite(communityId: $c, maxUses: 1) { id code maxUses } }`,
    vars: (t, f) => ({ c: community(t, f.world).id }),
    expect: { own: gatedInA(...inA), other: otherNotFound, ...circlesNa },
    check: (d) => (d.createInvite.code && d.createInvite.maxUses === 1 ? undefined : JSON.stringify(d.createInvite)),
  },

  'Mutation.revokeInvite': {
    document: `mutation($id: ID!) { revokeInvite(id: $id) }`,
    // A fresh invite made by the community's owner: its creator or anyone who manages members may revoke it.
    vars: async (t, f) => ({ id: (await f.freshInvite(side(t))).id }),
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.invites where id = $1 and revoked_at is not null', v.id)) ? undefined : 'not revoked'),
  },

  'Mutation.joinByInvite': {
    world: 'freshIfAllowed',
    document: `mutation($code: String!) { joinByInvite(code: $code) { id viewerRole } }`,
    vars: async (t, f) => ({ code: (await f.freshInvite(side(t))).code }),
    // The code opens the door for anyone but the banned (even into private B): for members it changes nothing.
    expect: { own: by({ anonymous: U, banned: F, rest: 'ok' }), other: by({ anonymous: U, rest: 'ok' }), ...circlesNa },
    check: (d, t, f) => {
      const want = t === 'own' ? (roleName[f.role] ?? 'MEMBER') : 'MEMBER';
      return d.joinByInvite.viewerRole === want ? undefined : `viewerRole ${d.joinByInvite.viewerRole}`;
    },
  },

  'Mutation.requestToJoin': {
    world: 'freshIfAllowed',
    document: `mutation($c: ID!) { requestToJoin(communityId: $c, answers: ["Because"]) { id status } }`,
    vars: (t, f) => ({ c: community(t, f.world).id }),
    expect: {
      own: by({ anonymous: U, nonMember: 'ok', banned: F, rest: 'CONFLICT' }),
      // B is private: it takes no requests, and does not admit it exists.
      other: by({ anonymous: U, rest: NF }),
      ...circlesNa,
    },
    check: (d) => (d.requestToJoin.status === 'PENDING' ? undefined : d.requestToJoin.status),
  },

  'Mutation.decideJoinRequest': {
    document: `mutation($id: ID!) { decideJoinRequest(id: $id, approve: false) { id status } }`,
    vars: async (t, f) => ({ id: await f.pendingRequest(side(t)) }),
    expect: { own: gatedInA('moderator', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.decideJoinRequest.status === 'REJECTED' ? undefined : d.decideJoinRequest.status),
  },

  'Mutation.createCircle': {
    document: `mutation($c: ID!, $name: String!) { createCircle(communityId: $c, input: { name: $name, access: INVITE, hidden: true }) { id hidden viewerIsMember } }`,
    vars: (t, f) => ({ c: community(t, f.world).id, name: f.unique('Circle') }),
    expect: { own: gatedInA('custom', 'admin', 'owner'), other: otherNotFound, ...circlesNa },
    check: (d) => (d.createCircle.hidden && d.createCircle.viewerIsMember ? undefined : 'creator is not in the new circle'),
  },

  'Mutation.updateCircle': {
    document: `mutation($id: ID!, $d: String!) { updateCircle(id: $id, input: { description: $d }) { id description } }`,
    vars: (t, f) => ({ id: circleOf(t, f.world), d: f.unique('edited') }),
    // A host or someone who manages circles; circles one may not see are NOT_FOUND.
    expect: {
      own: gatedInA('custom', 'admin', 'owner'),
      other: otherNotFound,
      hiddenCircle: by({ anonymous: U, ...managers, rest: NF }),
      joinedCircle: by({ anonymous: U, nonMember: NF, banned: NF, ...managers, rest: F }),
    },
    check: (d, _t, _f, v) => (d.updateCircle.description === v.d ? undefined : 'description not changed'),
  },

  'Mutation.setCircleImage': {
    // uploadId null removes the image (see setCommunityImage).
    document: `mutation($id: ID!) { setCircleImage(circleId: $id, uploadId: null) { id imageUrl } }`,
    vars: (t, f) => ({ id: circleOf(t, f.world) }),
    // "By a host of the circle or someone who manages circles", like updateCircle.
    expect: {
      own: gatedInA('custom', 'admin', 'owner'),
      other: otherNotFound,
      hiddenCircle: by({ anonymous: U, ...managers, rest: NF }),
      joinedCircle: by({ anonymous: U, nonMember: NF, banned: NF, ...managers, rest: F }),
    },
    check: (d) => (d.setCircleImage.imageUrl === null ? undefined : 'image still set'),
  },

  'Mutation.deleteCircle': {
    document: `mutation($id: ID!, $name: String!) { deleteCircle(id: $id, confirmName: $name) }`,
    // A fresh circle per cell, shaped like the target: open and visible (own), B's (other), hidden and not joined,
    // hidden with the actor in it.
    vars: async (t, f) => {
      const c = await f.freshCircle(side(t), { hidden: t === 'hiddenCircle' || t === 'joinedCircle', access: t === 'own' || t === 'other' ? 'OPEN' : 'INVITE', withActor: t === 'joinedCircle' });
      return { id: c.id, name: c.name };
    },
    // "Needs the manage circles permission" (a host alone may not delete).
    expect: {
      own: gatedInA('custom', 'admin', 'owner'),
      other: otherNotFound,
      hiddenCircle: by({ anonymous: U, ...managers, rest: NF }),
      joinedCircle: by({ anonymous: U, nonMember: NF, banned: NF, ...managers, rest: F }),
    },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.spaces where id = $1', v.id)) ? 'still there' : undefined),
  },

  'Mutation.joinCircle': {
    document: `mutation($id: ID!) { joinCircle(id: $id) { id viewerIsMember } }`,
    // own: a fresh open, visible circle (joining changes it); the others are the fixture's.
    vars: async (t, f) => ({ id: t === 'own' ? (await f.freshCircle('A', { hidden: false, access: 'OPEN', withActor: false })).id : circleOf(t, f.world) }),
    // "Open circles only": members join the open one; outsiders of A are refused. H is invite-only: managers, who
    // see it, are told it is not open; the rest do not see it. J: the actor is in it already, a no-op like joining
    // a community one is in (refusing it with "not open" would be wrong: they are in).
    expect: {
      own: by({ anonymous: U, nonMember: F, banned: F, rest: 'ok' }),
      other: otherNotFound,
      hiddenCircle: by({ anonymous: U, custom: F, admin: F, owner: F, rest: NF }),
      joinedCircle: by({ anonymous: U, nonMember: NF, banned: NF, rest: 'ok' }),
    },
    check: (d) => (d.joinCircle.viewerIsMember ? undefined : 'not a member after joining'),
  },

  'Mutation.leaveCircle': {
    document: `mutation($id: ID!) { leaveCircle(id: $id) }`,
    // joined: a fresh hidden circle with the actor in it (leaving changes it). Not being in a circle answers
    // false whether or not it exists, so nothing leaks.
    vars: async (t, f) => ({ id: t === 'joinedCircle' ? (await f.freshCircle('A', { hidden: true, access: 'INVITE', withActor: true })).id : circleOf(t, f.world) }),
    expect: {
      own: by({ anonymous: U, rest: 'false' }),
      other: by({ anonymous: U, rest: 'false' }),
      hiddenCircle: by({ anonymous: U, rest: 'false' }),
      joinedCircle: by({ anonymous: U, nonMember: 'false', banned: 'false', rest: 'ok' }),
    },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.circle_members where space_id = $1 and user_id = $2', v.id, f.actorId)) ? 'still in the circle' : undefined),
  },

  'Mutation.addCircleMember': {
    document: `mutation($id: ID!, $u: ID!) { addCircleMember(circleId: $id, userId: $u) { user { id } role } }`,
    vars: async (t, f) => {
      await f.victimMember(side(t));
      return { id: circleOf(t, f.world), u: await f.victimInCircle(side(t), circleOf(t, f.world), false) };
    },
    expect: {
      own: gatedInA('custom', 'admin', 'owner'),
      other: otherNotFound,
      hiddenCircle: by({ anonymous: U, ...managers, rest: NF }),
      joinedCircle: by({ anonymous: U, nonMember: NF, banned: NF, ...managers, rest: F }),
    },
    check: (d, _t, f) => (d.addCircleMember.user.id === f.ids.victim && d.addCircleMember.role === 'MEMBER' ? undefined : JSON.stringify(d.addCircleMember)),
  },

  'Mutation.removeCircleMember': {
    document: `mutation($id: ID!, $u: ID!) { removeCircleMember(circleId: $id, userId: $u) }`,
    vars: async (t, f) => {
      await f.victimMember(side(t));
      return { id: circleOf(t, f.world), u: await f.victimInCircle(side(t), circleOf(t, f.world), true) };
    },
    expect: {
      own: gatedInA('custom', 'admin', 'owner'),
      other: otherNotFound,
      hiddenCircle: by({ anonymous: U, ...managers, rest: NF }),
      joinedCircle: by({ anonymous: U, nonMember: NF, banned: NF, ...managers, rest: F }),
    },
    check: async (_d, _t, f, v) => ((await f.row('select 1 from community.circle_members where space_id = $1 and user_id = $2', v.id, v.u)) ? 'still in the circle' : undefined),
  },

  // ============================== federation entity resolvers ==============================
  // Called the way the gateway calls them: `_entities` on the community subgraph with a signed identity.
  'Entity.Community': {
    document: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id slug viewerRole } } }`,
    vars: (t, f) => ({ r: [{ __typename: 'Community', id: community(t, f.world).id }] }),
    expect: { own: by({ rest: 'ok' }), other: by({ rest: 'null' }), ...circlesNa },
    check: (d, _t, f) => (d._entities[0].viewerRole === (roleName[f.role] ?? null) ? undefined : `viewerRole ${d._entities[0].viewerRole}`),
  },

  'Entity.Space': {
    document: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Space { id kind community { id } } } }`,
    vars: (t, f) => ({ r: [{ __typename: 'Space', id: spaceOf(t, f.world) }] }),
    expect: {
      own: by({ rest: 'ok' }),
      other: by({ rest: 'null' }),
      hiddenCircle: by({ ...managers, rest: 'null' }),
      joinedCircle: by({ anonymous: 'null', nonMember: 'null', banned: 'null', rest: 'ok' }),
    },
    check: (d, t, f) => (d._entities[0].id === spaceOf(t, f.world) && d._entities[0].community.id === f.world.A.id ? undefined : JSON.stringify(d._entities[0])),
  },
};
