import { batcher, type RequestContext, type Resolvers, type SessionRecord } from '@circles/platform';
import type { AuthService, IssuedSession } from './service.ts';
import type { UserRow } from './repo.ts';

/** Output mapping: rows never leave the service as they are. */
const toUser = (u: UserRow) => ({ id: u.id, handle: u.handle, displayName: u.display_name, createdAt: u.created_at });
const toAccount = (u: UserRow, currentSessionId: string | null) => ({
  id: u.id,
  user: toUser(u),
  email: u.email,
  emailVerified: u.email_verified_at !== null,
  isInstanceAdmin: u.is_instance_admin,
  createdAt: u.created_at,
  currentSessionId: currentSessionId ?? '',
});
const toSession = (s: SessionRecord, currentId: string | null) => ({
  id: s.id,
  createdAt: new Date(s.createdAt),
  lastSeenAt: new Date(s.lastSeenAt),
  expiresAt: new Date(Math.min(s.expiresAt, s.idleExpiresAt)),
  ip: s.ip,
  userAgent: s.userAgent,
  current: s.id === currentId,
});

type Delivery = 'COOKIE' | 'BEARER';

/** Hands a new session to the client: as an HttpOnly cookie (browsers) or in the payload (apps). */
function deliver(issued: IssuedSession, delivery: Delivery | undefined, ctx: RequestContext) {
  const expiresAt = Math.min(issued.session.expiresAt, issued.session.idleExpiresAt);
  if (delivery === 'BEARER') return { account: toAccount(issued.user, issued.session.id), token: issued.token, expiresAt: new Date(expiresAt) };
  ctx.sessionCookie.set(issued.token, issued.session.expiresAt);
  return { account: toAccount(issued.user, issued.session.id), token: null, expiresAt: new Date(expiresAt) };
}

export function createAuthResolvers(auth: AuthService): Resolvers {
  // The gateway resolves every author on a page at once: one query per request, not one per person.
  const loaders = new WeakMap<RequestContext, (id: string) => Promise<UserRow | null>>();
  const loadUser = (ctx: RequestContext, id: string) => {
    let load = loaders.get(ctx);
    if (!load) {
      load = batcher(async (ids: string[]) => new Map((await auth.usersByIds(ids)).map((u) => [u.id, u])), null as UserRow | null);
      loaders.set(ctx, load);
    }
    return load(id);
  };
  return {
    User: {
      __resolveReference: async (ref: { id: string }, ctx: RequestContext) => {
        if (!/^[0-9a-f-]{36}$/i.test(ref.id)) return null;
        const u = await loadUser(ctx, ref.id);
        return u ? toUser(u) : null;
      },
    },
    Query: {
      me: async (_: unknown, __: unknown, ctx: RequestContext) => {
        const u = await auth.currentUser(ctx.identity);
        return u ? toUser(u) : null;
      },
      myAccount: async (_: unknown, __: unknown, ctx: RequestContext) => {
        const u = await auth.currentUser(ctx.identity);
        return u ? toAccount(u, ctx.identity.sessionId) : null;
      },
      mySessions: async (_: unknown, __: unknown, ctx: RequestContext) =>
        (await auth.listSessions(ctx.identity)).map((s) => toSession(s, ctx.identity.sessionId)),
      mySignIns: async (_: unknown, args: { first: number }, ctx: RequestContext) =>
        (await auth.mySignIns(ctx.identity, args.first)).map((s) => ({ ...s, method: s.method.toUpperCase(), at: new Date(s.at) })),
      userByHandle: async (_: unknown, args: { handle: string }) => {
        const u = await auth.userByHandle(args.handle);
        return u ? toUser(u) : null;
      },
      mailOutbox: (_: unknown, args: { limit: number; before?: Date | null }, ctx: RequestContext) =>
        auth.mailOutbox(ctx.identity, { limit: args.limit, before: args.before ?? undefined }),
    },
    Mutation: {
      updateProfile: async (_: unknown, { input }: { input: unknown }, ctx: RequestContext) => toAccount(await auth.updateProfile(input, ctx.identity), ctx.identity.sessionId),
      signUp: async (_: unknown, { input }: { input: { delivery?: Delivery } }, ctx: RequestContext) =>
        deliver(await auth.signUp(input, ctx.identity), input.delivery, ctx),
      logIn: async (_: unknown, { input }: { input: { delivery?: Delivery } }, ctx: RequestContext) =>
        deliver(await auth.logIn(input, ctx.identity), input.delivery, ctx),
      logOut: async (_: unknown, __: unknown, ctx: RequestContext) => {
        const ended = await auth.logOut(ctx.identity);
        ctx.sessionCookie.clear();
        return ended;
      },
      logOutEverywhereElse: (_: unknown, __: unknown, ctx: RequestContext) => auth.logOutEverywhereElse(ctx.identity),
      revokeSession: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
        const ended = await auth.revokeSession(ctx.identity, args.id);
        if (ended && args.id === ctx.identity.sessionId) ctx.sessionCookie.clear();
        return ended;
      },
      verifyEmail: (_: unknown, args: { token: string }) => auth.verifyEmail(args.token),
      resendVerificationEmail: (_: unknown, __: unknown, ctx: RequestContext) => auth.resendVerification(ctx.identity),
      changePassword: async (_: unknown, { input }: { input: unknown }, ctx: RequestContext) =>
        deliver(await auth.changePassword(input, ctx.identity), ctx.identity.credential === 'bearer' ? 'BEARER' : 'COOKIE', ctx),
      requestPasswordReset: (_: unknown, args: { email: string }, ctx: RequestContext) => auth.requestPasswordReset(args.email, ctx.identity),
      resetPassword: (_: unknown, { input }: { input: unknown }) => auth.resetPassword(input),
    },
  };
}
