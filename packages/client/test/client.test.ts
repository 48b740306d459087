import { describe, expect, it } from 'vitest';
import { ClientError, createClient, LogInDocument, MeDocument } from '../src/index.ts';

function fakeFetch(status: number, body: unknown) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

describe('createClient', () => {
  it('POSTs the printed operation with the CSRF header and returns typed data', async () => {
    const { fetch, calls } = fakeFetch(200, { data: { me: { id: '1', handle: 'ada', displayName: 'Ada' } } });
    const client = createClient({ url: '/graphql', fetch, headers: { cookie: 'a=b' } });
    const data = await client.request(MeDocument);
    expect(data.me?.handle).toBe('ada');
    const call = calls[0]!;
    expect(call.url).toBe('/graphql');
    expect(call.init.method).toBe('POST');
    expect(call.init.credentials).toBe('same-origin');
    const headers = call.init.headers as Record<string, string>;
    expect(headers['x-circles-csrf']).toBe('1');
    expect(headers.cookie).toBe('a=b');
    const body = JSON.parse(String(call.init.body)) as { query: string; operationName: string };
    expect(body.operationName).toBe('Me');
    expect(body.query).toContain('fragment UserFields on User');
  });

  it('throws a ClientError with code, field and retryAfterSeconds from the first error', async () => {
    const { fetch } = fakeFetch(200, {
      data: null,
      errors: [{ message: 'Too many attempts.', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 42 } }],
    });
    const client = createClient({ url: '/graphql', fetch });
    const err = await client.request(LogInDocument, { input: { email: 'a@b.c', password: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', message: 'Too many attempts.', retryAfterSeconds: 42 });

    const conflict = fakeFetch(200, { errors: [{ message: 'taken', extensions: { code: 'CONFLICT', field: 'email' } }] });
    const err2 = await createClient({ url: '/g', fetch: conflict.fetch })
      .request(LogInDocument, { input: { email: 'a@b.c', password: 'x' } })
      .catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'CONFLICT', field: 'email' });
  });

  it('reports transport failures as ClientErrors', async () => {
    const failing = (async () => {
      throw new TypeError('connection refused');
    }) as unknown as typeof fetch;
    await expect(createClient({ url: '/g', fetch: failing }).request(MeDocument)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    const html = (async () => new Response('<html>bad gateway</html>', { status: 502 })) as unknown as typeof fetch;
    await expect(createClient({ url: '/g', fetch: html }).request(MeDocument)).rejects.toMatchObject({ code: 'BAD_RESPONSE', status: 502 });
  });
});
