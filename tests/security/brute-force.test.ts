import { codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const canRunDistributed = await distributedServicesAvailable();
const LOG_IN = `mutation($e: String!, $p: String!) { logIn(input: { email: $e, password: $p, delivery: BEARER }) { token } }`;
const pw = 'violet-kettle-sunrise-42';

/**
 * Login throttling slows an attacker without locking the owner out: failures are counted per (account, address),
 * per address and per account; the per-account budget does not apply to addresses the owner has logged in from.
 */
describe.each(modes)('brute-force protection (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  beforeAll(async () => {
    if (!run) return;
    p = await startTestPlatform(mode, { loginMaxFailuresPerAccountAndIp: 3, loginMaxFailuresPerAccount: 8, loginMaxFailuresPerIp: 12 });
    for (const who of ['victim', 'other']) {
      await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, { input: { email: `${who}@example.com`, password: pw, handle: who, displayName: who } });
    }
    // The owner has logged in from home before.
    expect((await p.gql(LOG_IN, { e: 'victim@example.com', p: pw }, { ip: '198.51.100.7' })).errors).toBeUndefined();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('blocks one address guessing one account, even when it finally guesses right', async () => {
    for (let i = 0; i < 3; i++) expect(codeOf(await p.gql(LOG_IN, { e: 'victim@example.com', p: `guess-${i}-wrong` }, { ip: '203.0.113.1' }))).toBe('INVALID_CREDENTIALS');
    const blocked = await p.gql(LOG_IN, { e: 'victim@example.com', p: pw }, { ip: '203.0.113.1' });
    expect(codeOf(blocked)).toBe('RATE_LIMITED');
    expect(blocked.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    expect(blocked.errors![0]!.message).toMatch(/Try again in \d+ (second|minute)/);
  });

  it.runIf(run)('the owner still gets in from a known address while the account is under attack', async () => {
    const ok = await p.gql(LOG_IN, { e: 'victim@example.com', p: pw }, { ip: '198.51.100.7' });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.logIn.token).toBeTruthy();
  });

  it.runIf(run)('a distributed attack exhausts the account budget for unknown addresses only', async () => {
    // Many addresses, two guesses each: under the per-address limit, but the account budget runs out.
    let limited = false;
    for (let i = 0; i < 10 && !limited; i++) {
      for (let j = 0; j < 2; j++) {
        const r = await p.gql(LOG_IN, { e: 'victim@example.com', p: `botnet-${i}-${j}` }, { ip: `192.0.2.${10 + i}` });
        if (codeOf(r) === 'RATE_LIMITED') limited = true;
      }
    }
    expect(limited).toBe(true);
    // A new address with the right password is refused for now…
    expect(codeOf(await p.gql(LOG_IN, { e: 'victim@example.com', p: pw }, { ip: '192.0.2.200' }))).toBe('RATE_LIMITED');
    // …the owner's known address is not, and other accounts are unaffected.
    expect((await p.gql(LOG_IN, { e: 'victim@example.com', p: pw }, { ip: '198.51.100.7' })).errors).toBeUndefined();
    expect((await p.gql(LOG_IN, { e: 'other@example.com', p: pw }, { ip: '192.0.2.201' })).errors).toBeUndefined();
    // And the owner can always reset the password by email.
    expect((await p.gql(`mutation { requestPasswordReset(email: "victim@example.com") }`, {}, { ip: '192.0.2.202' })).data).toEqual({ requestPasswordReset: true });
  });

  it.runIf(run)('blocks one address spraying many accounts', async () => {
    let limited = false;
    for (let i = 0; i < 14 && !limited; i++) {
      limited = codeOf(await p.gql(LOG_IN, { e: `spray${i}@example.com`, p: 'spray-password-1' }, { ip: '203.0.113.99' })) === 'RATE_LIMITED';
    }
    expect(limited).toBe(true);
    expect(codeOf(await p.gql(LOG_IN, { e: 'other@example.com', p: pw }, { ip: '203.0.113.99' }))).toBe('RATE_LIMITED');
  });

  it.runIf(run)('answers unknown accounts and wrong passwords identically', async () => {
    const unknown = await p.gql(LOG_IN, { e: 'ghost@example.com', p: 'some-password-1' }, { ip: '203.0.113.50' });
    const wrong = await p.gql(LOG_IN, { e: 'other@example.com', p: 'some-password-1' }, { ip: '203.0.113.51' });
    expect(unknown.errors![0]!.message).toBe(wrong.errors![0]!.message);
    expect(codeOf(unknown)).toBe(codeOf(wrong));
  });
});
