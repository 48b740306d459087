/** A small GraphQL client for tests: one call per request, with the knobs tests need (token, cookie, IP). */
export interface GqlOptions {
  token?: string;
  cookie?: string;
  ip?: string;
  headers?: Record<string, string>;
}

export interface GqlResult<T = any> {
  status: number;
  data: T | null;
  errors?: { message: string; extensions?: Record<string, any> }[];
  headers: Headers;
  /** The session cookie the response set ('' when cleared), if any. */
  setSessionCookie?: string;
}

export function gqlClient(url: string) {
  return async function gql<T = any>(query: string, variables: Record<string, unknown> = {}, opts: GqlOptions = {}): Promise<GqlResult<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-circles-csrf': '1', ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.cookie) headers.cookie = `circles_session=${opts.cookie}`;
    if (opts.ip) headers['x-forwarded-for'] = opts.ip;
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: T; errors?: GqlResult['errors'] };
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('circles_session='));
    return {
      status: res.status,
      data: body.data ?? null,
      errors: body.errors,
      headers: res.headers,
      setSessionCookie: setCookie === undefined ? undefined : decodeURIComponent(setCookie.split(';')[0]!.slice('circles_session='.length)),
    };
  };
}

export type Gql = ReturnType<typeof gqlClient>;

/** The first error's code, for compact assertions. */
export const codeOf = (r: GqlResult) => r.errors?.[0]?.extensions?.code as string | undefined;
