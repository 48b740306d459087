import type { Identity } from '@circles/platform';
import type { ProviderEventProcessor } from './events.ts';
import { type PaymentProvider, WebhookSignatureError } from './provider.ts';
import type { PaymentsService } from './service.ts';

const MAX_WEBHOOK_BYTES = 1024 * 1024;
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  // Quote always; a leading = + - @ would be a formula in a spreadsheet, so it gets a ' first.
  return `"${(/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`;
};

/**
 * Payments' plain HTTP routes, behind the gateway:
 * - `POST /payments/webhooks/stripe`: the provider's events. Verified on the raw body (signature and a 300 s
 *   tolerance), stored once by event id, acknowledged at once; the work happens in the event processor.
 * - `GET /payments/ledger/<communityId>.csv?exp&sig`: the whole ledger, by a signed 5-minute link from
 *   `ledgerExportUrl` (downloads go by signed URL: the gateway serves GETs without a session).
 */
export function createPaymentsHttp(svc: PaymentsService, provider: PaymentProvider, processor: ProviderEventProcessor) {
  return async (request: Request, _identity: Identity): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === '/payments/webhooks/stripe') {
      if (request.method !== 'POST') return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'POST only.' } });
      const declared = Number(request.headers.get('content-length') ?? 0);
      if (declared > MAX_WEBHOOK_BYTES) return json(413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'Too large.' } });
      const raw = Buffer.from(await request.arrayBuffer());
      if (raw.length > MAX_WEBHOOK_BYTES) return json(413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'Too large.' } });
      let event;
      try {
        event = provider.verifyWebhook(raw.toString('utf8'), request.headers.get('stripe-signature'));
      } catch (err) {
        if (err instanceof WebhookSignatureError) return json(400, { error: { code: 'BAD_SIGNATURE', message: err.message } });
        throw err;
      }
      const fresh = await processor.receive(event);
      return json(200, { received: true, duplicate: !fresh });
    }
    const ledger = /^\/payments\/ledger\/([0-9a-f-]{36})\.csv$/.exec(url.pathname);
    if (ledger && (request.method === 'GET' || request.method === 'HEAD')) {
      if (!svc.deps.urls.verify(url.pathname, url.searchParams)) return json(403, { error: { code: 'FORBIDDEN', message: 'This link is invalid or has expired.' } });
      const communityId = ledger[1]!;
      const lines = ['sequence,id,kind,amount,currency,user_id,subscription_id,provider_object_id,description,occurred_at,recorded_at'];
      for (let after = 0; ; ) {
        const page = await svc.repo.ledgerPage(communityId, after, 1000);
        for (const r of page) {
          lines.push([r.seq, r.id, r.kind, r.amount, r.currency, r.user_id, r.subscription_id, r.provider_object_id, r.description, r.occurred_at, r.recorded_at].map(csvCell).join(','));
        }
        if (page.length < 1000) break;
        after = Number(page.at(-1)!.seq);
      }
      return new Response(request.method === 'HEAD' ? null : lines.join('\r\n') + '\r\n', {
        status: 200,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="ledger-${communityId}.csv"`,
          'cache-control': 'private, no-store',
          'x-content-type-options': 'nosniff',
        },
      });
    }
    return json(404, { error: { code: 'NOT_FOUND', message: 'No such payments route.' } });
  };
}
