import { createHmac } from 'node:crypto';
import { DomainError, type ErrorCode } from './errors.ts';
import { safeEqual } from './ids.ts';
import type { Logger } from './log.ts';

/**
 * Service-to-service calls in distributed mode: POST {base}/internal/rpc/{method} with a JSON body, signed with
 * the shared secret over timestamp + path + body, refused when older than 60 s. Domain errors keep their codes.
 */
export const RPC_PREFIX = '/internal/rpc/';
const SIGNATURE_HEADER = 'x-circles-rpc-signature';
const MAX_SKEW_MS = 60_000;

const sign = (secret: string, ts: string, path: string, body: string) => createHmac('sha256', secret).update(`${ts}\n${path}\n${body}`).digest('base64url');

export function rpcClient<T extends object>(baseUrl: string, secret: string): T {
  return new Proxy({} as T, {
    get(_, method: string) {
      return async (input: unknown) => {
        const path = `${RPC_PREFIX}${method}`;
        const body = JSON.stringify(input ?? null);
        const ts = String(Date.now());
        const res = await fetch(new URL(path, baseUrl), {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: `${ts}.${sign(secret, ts, path, body)}` },
          body,
        });
        const out = (await res.json()) as { result?: unknown; error?: { code: ErrorCode; message: string } };
        if (out.error) throw new DomainError(out.error.code, out.error.message);
        if (!res.ok) throw new Error(`rpc ${method} failed with HTTP ${res.status}`);
        return out.result;
      };
    },
  });
}

/** Handles an RPC request against a service's API object; returns null when the path is not an RPC path. */
export async function handleRpc(
  api: Record<string, (input: unknown) => Promise<unknown>>,
  secret: string,
  log: Logger,
  req: { method: string; path: string; signature: string | null; body: string },
): Promise<{ status: number; body: string } | null> {
  if (!req.path.startsWith(RPC_PREFIX)) return null;
  const json = (status: number, value: unknown) => ({ status, body: JSON.stringify(value) });
  if (req.method !== 'POST') return json(405, { error: { code: 'BAD_USER_INPUT', message: 'POST only' } });
  const [ts, mac] = (req.signature ?? '').split('.');
  if (!ts || !mac || Math.abs(Date.now() - Number(ts)) > MAX_SKEW_MS || !safeEqual(mac, sign(secret, ts, req.path, req.body))) {
    return json(401, { error: { code: 'UNAUTHENTICATED', message: 'bad or missing rpc signature' } });
  }
  const method = req.path.slice(RPC_PREFIX.length);
  const fn = Object.hasOwn(api, method) ? api[method] : undefined;
  if (!fn) return json(404, { error: { code: 'NOT_FOUND', message: `no rpc method ${method}` } });
  try {
    return json(200, { result: await fn(JSON.parse(req.body)) });
  } catch (err) {
    if (err instanceof DomainError) return json(200, { error: { code: err.code, message: err.message } });
    log.error('rpc failed', { method, err });
    return json(500, { error: { code: 'BAD_USER_INPUT', message: 'Unexpected error.' } });
  }
}

export { SIGNATURE_HEADER as RPC_SIGNATURE_HEADER };
