import { randomBytes } from 'node:crypto';
import { freePort } from '@circles/server/embedded';
import { ChatTestSocket, codeOf, type CirclesProcess, distributedServicesAvailable, ensureWebBuild, type FakeStripe, freshPostgres, gqlClient, type LocalS3, REDIS_URL, spawnCircles, startFakeStripe, startLocalS3, waitReady } from '@circles/testing';
import { cachedCommunityApi, type CommunityApi, RedisCache, rpcClient } from '@circles/platform';
import { Redis } from 'ioredis';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = await distributedServicesAvailable();

/**
 * Split mode: the auth, community, media, posts, chat and payments services each as its own process, the gateway as another, the web app
 * as another, talking over HTTP, on the real PostgreSQL and Redis and an S3-compatible store (s3rver); mail goes out
 * over SMTP to a real SMTP server (smtp-server) run by the test. Payments is configured for Stripe and talks to a
 * local server that speaks Stripe's REST protocol (Stripe's API is hosted and cannot run here).
 */
describe.runIf(run)('split deployment: auth and gateway as separate processes', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let auth: CirclesProcess;
  let community: CirclesProcess;
  let communityUrl: string;
  let media: CirclesProcess;
  let mediaUrl: string;
  let posts: CirclesProcess;
  let chat: CirclesProcess;
  let chatUrl: string;
  let payments: CirclesProcess;
  let stripe: FakeStripe;
  const stripeWebhookSecret = 'whsec_splittestsecret0123456789';
  let s3: LocalS3;
  let shared: Record<string, string>;
  let gateway: CirclesProcess;
  let web: CirclesProcess;
  let webUrl: string;
  let smtp: SMTPServer;
  let gatewayUrl: string;
  let authUrl: string;
  const inbox: { to: string; text: string }[] = [];
  let smtpDelayMs = 0;
  let onSmtpConnect: () => void = () => {};

  beforeAll(async () => {
    db = await freshPostgres();
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onConnect(_session, cb) {
        onSmtpConnect();
        setTimeout(() => cb(), smtpDelayMs);
      },
      onData(stream, session, cb) {
        simpleParser(stream).then((mail) => {
          inbox.push({ to: session.envelope.rcptTo[0]!.address, text: mail.text ?? '' });
          cb();
        }, cb);
      },
    });
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', r));

    ensureWebBuild();
    const [authPort, gatewayPort, webPort, communityPort, mediaPort, postsPort, chatPort, paymentsPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    s3 = await startLocalS3('split-media');
    stripe = await startFakeStripe();
    const subgraphs = `auth=http://127.0.0.1:${authPort}/graphql,community=http://127.0.0.1:${communityPort}/graphql,media=http://127.0.0.1:${mediaPort}/graphql,posts=http://127.0.0.1:${postsPort}/graphql,chat=http://127.0.0.1:${chatPort}/graphql,payments=http://127.0.0.1:${paymentsPort}/graphql`;
    shared = {
      GATEWAY_SECRET: randomBytes(32).toString('hex'),
      REDIS_URL,
      REDIS_PREFIX: `circles-split-${Date.now()}:`,
      CIRCLES_ENV: 'test',
      TRUST_PROXY: 'true',
    };
    auth = spawnCircles({ ...shared, CIRCLES_ROLES: 'auth', SERVICE_PORT: String(authPort), HOST: '127.0.0.1', DATABASE_URL: db.url, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, PUBLIC_URL: 'http://circles.test' });
    // Community calls media (claiming uploaded images) by signed RPC at its SUBGRAPH_URLS address.
    community = spawnCircles({ ...shared, CIRCLES_ROLES: 'community', SERVICE_PORT: String(communityPort), HOST: '127.0.0.1', DATABASE_URL: db.url, SUBGRAPH_URLS: subgraphs });
    media = spawnCircles({ ...shared, ...s3.env, CIRCLES_ROLES: 'media', SERVICE_PORT: String(mediaPort), HOST: '127.0.0.1', DATABASE_URL: db.url });
    // Posts asks community who may read and post, and media to claim attachments, both by signed RPC.
    posts = spawnCircles({ ...shared, CIRCLES_ROLES: 'posts', SERVICE_PORT: String(postsPort), HOST: '127.0.0.1', DATABASE_URL: db.url, SUBGRAPH_URLS: subgraphs });
    chatUrl = `http://127.0.0.1:${chatPort}`;
    chat = spawnCircles({ ...shared, CIRCLES_ROLES: 'chat', SERVICE_PORT: String(chatPort), HOST: '127.0.0.1', DATABASE_URL: db.url, SUBGRAPH_URLS: subgraphs });
    // Payments asks community (owner, circles, membership) by signed RPC; Community learns of access by events in Redis.
    payments = spawnCircles({
      ...shared,
      CIRCLES_ROLES: 'payments',
      SERVICE_PORT: String(paymentsPort),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      SUBGRAPH_URLS: subgraphs,
      STRIPE_SECRET_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
      STRIPE_API_BASE: stripe.url,
    });
    gateway = spawnCircles({
      ...shared,
      CIRCLES_ROLES: 'gateway',
      GATEWAY_PORT: String(gatewayPort),
      HOST: '127.0.0.1',
      SUBGRAPH_URLS: subgraphs,
    });
    communityUrl = `http://127.0.0.1:${communityPort}`;
    mediaUrl = `http://127.0.0.1:${mediaPort}`;
    // The web tier shares nothing but the gateway's address: no database, no Redis, no secret.
    web = spawnCircles({ CIRCLES_ENV: 'test', CIRCLES_ROLES: 'web', WEB_PORT: String(webPort), HOST: '127.0.0.1', GATEWAY_URL: `http://127.0.0.1:${gatewayPort}` });
    authUrl = `http://127.0.0.1:${authPort}`;
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    webUrl = `http://127.0.0.1:${webPort}`;
    await Promise.all([
      waitReady(`${authUrl}/readyz`, auth),
      waitReady(`${communityUrl}/readyz`, community),
      waitReady(`${mediaUrl}/readyz`, media),
      waitReady(`http://127.0.0.1:${postsPort}/readyz`, posts),
      waitReady(`http://127.0.0.1:${chatPort}/readyz`, chat),
      waitReady(`http://127.0.0.1:${paymentsPort}/readyz`, payments),
      waitReady(`${gatewayUrl}/readyz`, gateway),
      waitReady(`${webUrl}/healthz`, web),
    ]);
  });

  afterAll(async () => {
    await web?.stop();
    await gateway?.stop();
    await community?.stop();
    await posts?.stop();
    await chat?.stop();
    await payments?.stop();
    await stripe?.close();
    await media?.stop();
    await auth?.stop();
    await s3?.stop();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    await db?.drop();
  });

  it('signs up, verifies by the emailed link, logs in and reads `me` through the gateway', async () => {
    const gql = gqlClient(gatewayUrl);
    const signUp = await gql(`mutation { signUp(input: { email: "split@example.com", password: "violet-kettle-sunrise-42", handle: "split", displayName: "Split" }) { account { id emailVerified } } }`);
    expect(signUp.errors).toBeUndefined();
    expect(signUp.setSessionCookie).toBeTruthy(); // the cookie crossed subgraph -> gateway -> client

    await expect.poll(() => inbox.find((m) => m.to === 'split@example.com'), { timeout: 10_000 }).toBeTruthy();
    const token = /verify-email\?token=([\w-]+)/.exec(inbox.find((m) => m.to === 'split@example.com')!.text)![1]!;
    expect((await gql(`mutation($t: String!) { verifyEmail(token: $t) }`, { t: token })).data).toEqual({ verifyEmail: true });

    const login = await gql(`mutation { logIn(input: { email: "split@example.com", password: "violet-kettle-sunrise-42", delivery: BEARER }) { token } }`);
    const me = await gql(`{ me { handle } myAccount { emailVerified isInstanceAdmin } }`, {}, { token: login.data.logIn.token });
    expect(me.data).toEqual({ me: { handle: 'split' }, myAccount: { emailVerified: true, isInstanceAdmin: true } });
    // The cookie from sign-up is a working session too.
    expect((await gql(`{ me { handle } }`, {}, { cookie: signUp.setSessionCookie })).data.me.handle).toBe('split');
  });

  it('serves the web app from its own process, forwarding /graphql to the gateway with the client address', async () => {
    // Through the web origin, as a browser would: the cookie crosses web -> gateway -> auth and back.
    const viaWeb = gqlClient(webUrl);
    const login = await viaWeb(`mutation { logIn(input: { email: "split@example.com", password: "violet-kettle-sunrise-42" }) { account { id } } }`);
    expect(login.errors).toBeUndefined();
    expect(login.setSessionCookie).toBeTruthy();
    // The web tier appends the address it saw; the gateway trusts one hop, so a forged header gets nowhere.
    const sessions = await viaWeb(`{ mySessions { current ip } }`, {}, { cookie: login.setSessionCookie, ip: '6.6.6.6' });
    const current = sessions.data.mySessions.find((s: { current: boolean }) => s.current);
    expect(current.ip).toBe('127.0.0.1');
    // Server-rendered pages call the gateway with the user's cookie.
    const page = await fetch(`${webUrl}/account`, { headers: { cookie: `circles_session=${login.setSessionCookie}` }, redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('split');
    const anonymous = await fetch(`${webUrl}/account`, { redirect: 'manual' });
    expect(anonymous.status).toBe(307);
  });

  it('joins two subgraphs over HTTP and answers another service\'s permission question by signed RPC, cached in Redis', async () => {
    const gql = gqlClient(gatewayUrl);
    const owner = (await gql(`mutation { logIn(input: { email: "split@example.com", password: "violet-kettle-sunrise-42", delivery: BEARER }) { token account { id } } }`)).data.logIn;
    const member = (await gql(`mutation { signUp(input: { email: "m@example.com", password: "violet-kettle-sunrise-42", handle: "splitmember", displayName: "M", delivery: BEARER }) { token account { id } } }`)).data.signUp;
    const created = await gql(`mutation { createCommunity(input: { name: "Split Club", slug: "split-club" }) { id owner { handle } } }`, {}, { token: owner.token });
    expect(created.data.createCommunity.owner.handle).toBe('split'); // community subgraph + auth subgraph, both over HTTP
    const communityId = created.data.createCommunity.id;
    await gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: communityId }, { token: member.token });

    // Another service's view: the contract's cached client over the RPC transport, sharing the Redis cache.
    const redis = new Redis(REDIS_URL);
    try {
      const api = cachedCommunityApi(rpcClient<CommunityApi>(communityUrl, shared.GATEWAY_SECRET!), new RedisCache(redis, `${shared.REDIS_PREFIX}cache:`));
      const can = () => api.can({ userId: member.account.id, permission: 'post', communityId });
      expect(await can()).toBe(true);
      expect(await can()).toBe(true); // from the cache
      const ban = await gql(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "test") { reason } }`, { c: communityId, u: member.account.id }, { token: owner.token });
      expect(ban.errors).toBeUndefined();
      expect(await can()).toBe(false); // refused on the very next call
    } finally {
      redis.disconnect();
    }
    // Unsigned or wrongly signed RPC is refused.
    const unsigned = await fetch(`${communityUrl}/internal/rpc/can`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: owner.account.id, permission: 'post', communityId }) });
    expect(unsigned.status).toBe(401);
    await expect(rpcClient<CommunityApi>(communityUrl, 'x'.repeat(64)).can({ userId: owner.account.id, permission: 'post', communityId })).rejects.toThrow(/signature/);
  });

  it('uploads an image through web -> gateway -> media process into S3, and community claims it over RPC', async () => {
    const gql = gqlClient(gatewayUrl);
    const owner = (await gql(`mutation { logIn(input: { email: "split@example.com", password: "violet-kettle-sunrise-42", delivery: BEARER }) { token } }`)).data.logIn;
    const c = (await gql(`mutation { createCommunity(input: { name: "Split Pics", slug: "split-pics" }) { id } }`, {}, { token: owner.token })).data.createCommunity;
    const png = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#3366cc' } }).png().toBuffer();
    const res = await fetch(`${webUrl}/media/images?purpose=COMMUNITY_AVATAR`, { method: 'POST', headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'image/png' }, body: new Uint8Array(png) });
    expect(res.status).toBe(201);
    const upload = (await res.json()) as { id: string; url: string };
    const set = await gql(`mutation($c: ID!, $u: ID) { setCommunityImage(communityId: $c, kind: AVATAR, uploadId: $u) { avatarUrl } }`, { c: c.id, u: upload.id }, { token: owner.token });
    expect(set.errors).toBeUndefined();
    expect(set.data.setCommunityImage.avatarUrl).toBe(upload.url);
    const image = await fetch(`${webUrl}${upload.url}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/webp');
    expect(image.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).width).toBe(512);
    // The media process itself refuses requests that did not come through the gateway.
    const direct = await fetch(`${mediaUrl}${upload.url}`);
    expect(direct.status).toBe(401);
  });

  it('posts in a circle with an attachment across processes: posts asks community and media over RPC; the signed link works only for readers', async () => {
    const gql = gqlClient(gatewayUrl);
    const login = async (email: string) =>
      (await gql(`mutation($e: String!) { logIn(input: { email: $e, password: "violet-kettle-sunrise-42", delivery: BEARER }) { token } }`, { e: email })).data.logIn.token as string;
    const owner = await login('split@example.com');
    const signUp = await gql(`mutation { signUp(input: { email: "reader@example.com", password: "violet-kettle-sunrise-42", handle: "reader", displayName: "Reader", delivery: BEARER }) { token } }`);
    const outsider = signUp.data.signUp.token as string;
    const c = (await gql(`mutation { createCommunity(input: { name: "Split Posts", slug: "split-posts" }) { id } }`, {}, { token: owner })).data.createCommunity;
    const circle = (await gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Inner", access: INVITE }) { id } }`, { c: c.id }, { token: owner })).data.createCircle;
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const res = await fetch(`${webUrl}/media/files?name=notes.pdf`, { method: 'POST', headers: { authorization: `Bearer ${owner}` }, body: new Uint8Array(pdf) });
    expect(res.status).toBe(201);
    const file = (await res.json()) as { id: string; kind: string };
    expect(file.kind).toBe('document');
    const created = await gql(
      `mutation($i: CreatePostInput!) { createPost(input: $i) { id accessible attachments { name url } author { handle } } }`,
      { i: { communityId: c.id, spaceId: circle.id, title: 'Inner notes', body: 'For the circle only', attachments: [file.id] } },
      { token: owner },
    );
    expect(created.errors).toBeUndefined();
    const post = created.data.createPost;
    expect(post.author.handle).toBe('split'); // resolved by auth through the gateway
    expect(post.attachments[0].name).toBe('notes.pdf');
    const download = await fetch(`${webUrl}${post.attachments[0].url}`);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
    expect((await fetch(`${webUrl}${post.attachments[0].url.split('?')[0]}`)).status).toBe(403);
    // An outsider gets a teaser and no link.
    const teaser = await gql(`query($id: ID!) { post(id: $id) { accessible body attachments { url } } }`, { id: post.id }, { token: outsider });
    expect(teaser.data.post).toEqual({ accessible: false, body: null, attachments: [] });
    // Chat in the circle, from its own process: the resend of a message is a no-op there too.
    const channel = (await gql(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: c.id, spaceId: circle.id, name: 'inner' } }, { token: owner })).data.createChannel;
    const send = () => gql(`mutation($i: SendMessageInput!) { sendMessage(input: $i) { duplicate message { seq author { handle } } } }`, { i: { channelId: channel.id, clientId: 'split-message-1', body: 'hello' } }, { token: owner });
    expect((await send()).data.sendMessage).toEqual({ duplicate: false, message: { seq: 1, author: { handle: 'split' } } });
    expect((await send()).data.sendMessage.duplicate).toBe(true);
    expect((await gql(`query($c: ID!) { messages(channelId: $c) { messages { seq } } }`, { c: channel.id }, { token: outsider })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // The chat socket through every hop: browser-style (cookie + our Origin) on the web tier -> gateway -> chat's
    // process, which serves only upgrades carrying the gateway's signed identity.
    const socket = await ChatTestSocket.open(webUrl, { cookie: `circles_session=${owner}`, origin: webUrl });
    expect((await socket.subscribe([channel.id]))[0]).toMatchObject({ t: 'subbed', lastSeq: 1 });
    const ack = await socket.sendMessage(channel.id, 'over the socket', 'split-socket-1');
    expect(ack).toMatchObject({ t: 'ack', seq: 2, duplicate: false });
    expect((await socket.next((f) => f.t === 'msg' && f.message.id === ack.id)).message.body).toBe('over the socket');
    socket.close();
    await expect(ChatTestSocket.open(webUrl, { cookie: `circles_session=${owner}`, origin: 'https://evil.example' })).rejects.toMatchObject({ status: 403 });
    const direct = await fetch(`http://127.0.0.1:${new URL(chatUrl).port}/chat/socket`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } }).catch(() => null);
    expect(direct?.status ?? 401).toBe(401);
  });

  it('refuses calls to the subgraph that did not come through the gateway', async () => {
    const direct = await fetch(`${authUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(direct.status).toBe(401);
    expect((await direct.json()).errors[0].extensions.code).toBe('GATEWAY_REQUIRED');
    const forged = await fetch(`${authUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-circles-identity': `v1.${Buffer.from(JSON.stringify({ userId: 'x', iat: Date.now() })).toString('base64url')}.forged` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(forged.status).toBe(401);
    // Bearer tokens are meaningless to a subgraph: only the gateway resolves sessions.
    const viaGateway = await gqlClient(gatewayUrl)(`{ me { id } }`);
    expect(viaGateway.status).toBe(200);
  });

  it('sells a paid circle across processes: Stripe webhooks through web -> gateway -> payments, access granted by events to community', async () => {
    const gql = gqlClient(webUrl);
    const owner = (await gql(`mutation { logIn(input: { email: "split@example.com", password: "violet-kettle-sunrise-42", delivery: BEARER }) { token } }`)).data.logIn;
    const buyer = (await gql(`mutation { signUp(input: { email: "buyer@example.com", password: "violet-kettle-sunrise-42", handle: "splitbuyer", displayName: "B", delivery: BEARER }) { token account { id } } }`)).data.signUp;
    const c = (await gql(`mutation { createCommunity(input: { name: "Split Paid", slug: "split-paid" }) { id } }`, {}, { token: owner.token })).data.createCommunity;
    const circle = (await gql(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Gold", access: PAID }) { id } }`, { c: c.id }, { token: owner.token })).data.createCircle;
    await gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: buyer.token });
    const tier = await gql(`mutation($c: ID!, $i: TierInput!) { createTier(communityId: $c, input: $i) { id } }`, { c: c.id, i: { name: 'Gold', circleIds: [circle.id], currency: 'eur', monthlyAmount: 500 } }, { token: owner.token });
    expect(tier.errors).toBeUndefined();
    const hook = async (type: string, object: Record<string, unknown>, account?: string) => {
      const { body, header } = stripe.signEvent(stripe.event(type, object as never, account ? { account } : {}), stripeWebhookSecret);
      // Through the web origin, as Stripe would reach a deployment: the signature header must cross every hop.
      return fetch(`${webUrl}/payments/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body });
    };
    await gql(`mutation($c: ID!) { startPayoutOnboarding(communityId: $c) }`, { c: c.id }, { token: owner.token });
    const accountId = [...stripe.accounts.keys()][0]!;
    expect((await hook('account.updated', stripe.completeOnboarding(accountId), accountId)).status).toBe(200);
    await expect.poll(async () => (await gql(`query($c: ID!) { payoutAccount(communityId: $c) { chargesEnabled } }`, { c: c.id }, { token: owner.token })).data?.payoutAccount?.chargesEnabled).toBe(true);
    const start = (await gql(`mutation($t: ID!) { startCheckout(tierId: $t, interval: MONTH) { url checkoutId } }`, { t: tier.data.createTier.id }, { token: buyer.token })).data.startCheckout;
    const session = [...stripe.checkoutSessions.values()].find((s) => s.metadata?.circles_checkout === start.checkoutId)!;
    const paid = stripe.completeCheckout(session.id, { termsAccepted: true });
    for (const [type, object] of [['checkout.session.completed', stripe.checkoutSessions.get(session.id)!], ['customer.subscription.created', paid.subscription!], ['invoice.paid', paid.invoice!]] as const) {
      expect((await hook(type, object)).status).toBe(200);
    }
    const member = async () => (await gql(`query($id: ID!) { circle(id: $id) { viewerIsMember } }`, { id: circle.id }, { token: buyer.token })).data?.circle?.viewerIsMember;
    await expect.poll(member, { timeout: 20_000 }).toBe(true);
    // A delivery with a bad signature is refused at the payments process, wherever it entered.
    const forged = await fetch(`${webUrl}/payments/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` }, body: '{}' });
    expect(forged.status).toBe(400);
    // Stripe ends it: access goes, in the community process, through the event log.
    stripe.setSubscription(paid.subscription!.id, { status: 'canceled', ended_at: stripe.now() });
    expect((await hook('customer.subscription.deleted', stripe.subscriptions.get(paid.subscription!.id)!)).status).toBe(200);
    await expect.poll(member, { timeout: 20_000 }).toBe(false);
  });

  it('finishes an in-flight request on SIGTERM, then exits cleanly', async () => {
    const gql = gqlClient(gatewayUrl);
    smtpDelayMs = 1500; // sign-up waits on the verification mail, so the request stays in flight
    const connected = new Promise<void>((r) => (onSmtpConnect = r));
    const pending = gql(`mutation { signUp(input: { email: "late@example.com", password: "violet-kettle-sunrise-42", handle: "late", displayName: "Late" }) { account { id } } }`);
    await connected;
    const exit = auth.stop('SIGTERM');
    const res = await pending;
    expect(res.errors).toBeUndefined();
    expect(res.data.signUp.account.id).toBeTruthy();
    expect(await exit).toBe(0);
    expect(auth.output()).toContain('"msg":"circles stopped"');
    // With the auth process gone the gateway answers with an error, not a hang.
    const after = await gql(`{ me { id } }`, {}, { token: 'whatever' });
    expect(after.errors?.length ?? 0).toBeGreaterThan(0);
    expect(codeOf(after)).toBeDefined();
  });
});
