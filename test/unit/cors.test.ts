import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCorsPolicy, EXPOSED_HEADERS, type CorsConfig } from '../../src/http/cors.js';

/** Flat [name, value, …] → an object (a repeated name would be a bug here: asserted absent). */
function toObject(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = (flat[i] as string).toLowerCase();
    assert.ok(!(name in out), `${name} appears once`);
    out[name] = flat[i + 1] as string;
  }
  return out;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
}

const ANY = createCorsPolicy(true);
const LISTED = createCorsPolicy({ origins: ['https://app.example', 'https://Admin.Example'], max_age: 120 });
const OFF = createCorsPolicy(false);
const STAR_LIST = createCorsPolicy({ origins: ['*'], max_age: 60 } satisfies CorsConfig);

test('the exposed headers include the request id, timing and rate-limit headers', () => {
  const exposed = list(EXPOSED_HEADERS);
  for (const name of ['x-request-id', 'x-upstream-request-id', 'server-timing', 'retry-after', 'openai-processing-ms', 'x-ratelimit-remaining-requests', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-requests']) {
    assert.ok(exposed.includes(name), name);
  }
});

interface ResponseCase {
  readonly name: string;
  readonly policy: ReturnType<typeof createCorsPolicy>;
  readonly origin: string | undefined;
  readonly allowOrigin: string | undefined;
  readonly varyOrigin: boolean;
  readonly exposes: boolean;
}

const RESPONSE_CASES: readonly ResponseCase[] = [
  { name: 'any origin: * for a browser origin', policy: ANY, origin: 'https://x.example', allowOrigin: '*', varyOrigin: false, exposes: true },
  { name: 'any origin: * without an Origin header', policy: ANY, origin: undefined, allowOrigin: '*', varyOrigin: false, exposes: true },
  { name: 'origins [*]: behaves as any origin', policy: STAR_LIST, origin: 'https://x.example', allowOrigin: '*', varyOrigin: false, exposes: true },
  { name: 'listed origin: echoed with Vary: Origin', policy: LISTED, origin: 'https://app.example', allowOrigin: 'https://app.example', varyOrigin: true, exposes: true },
  { name: 'listed origin compared case-insensitively, echoed as sent', policy: LISTED, origin: 'https://admin.example', allowOrigin: 'https://admin.example', varyOrigin: true, exposes: true },
  { name: 'unlisted origin: no grant, still Vary: Origin', policy: LISTED, origin: 'https://evil.example', allowOrigin: undefined, varyOrigin: true, exposes: false },
  { name: 'suffix of a listed origin is not listed', policy: LISTED, origin: 'https://app.example.evil.example', allowOrigin: undefined, varyOrigin: true, exposes: false },
  { name: 'other scheme of a listed origin is not listed', policy: LISTED, origin: 'http://app.example', allowOrigin: undefined, varyOrigin: true, exposes: false },
  { name: 'listed origins without an Origin header: no grant', policy: LISTED, origin: undefined, allowOrigin: undefined, varyOrigin: true, exposes: false },
  { name: 'off: nothing at all', policy: OFF, origin: 'https://app.example', allowOrigin: undefined, varyOrigin: false, exposes: false },
];

for (const c of RESPONSE_CASES) {
  test(`responseHeaders — ${c.name}`, () => {
    const headers = toObject(c.policy.responseHeaders(c.origin));
    assert.equal(headers['access-control-allow-origin'], c.allowOrigin);
    assert.equal(list(headers.vary).includes('origin'), c.varyOrigin);
    assert.equal(headers['access-control-expose-headers'] === undefined ? false : list(headers['access-control-expose-headers']).includes('x-request-id'), c.exposes);
    assert.equal(headers['access-control-allow-credentials'], undefined, 'credentials are never allowed');
  });
}

interface PreflightCase {
  readonly name: string;
  readonly policy: ReturnType<typeof createCorsPolicy>;
  readonly origin: string | undefined;
  readonly requestHeaders: string | undefined;
  readonly allowOrigin: string | undefined;
  readonly maxAge: string | undefined;
  readonly allowHeaders: readonly string[];
}

const PREFLIGHT_CASES: readonly PreflightCase[] = [
  {
    name: 'any origin: granted, requested headers echoed, max-age 600',
    policy: ANY,
    origin: 'https://x.example',
    requestHeaders: 'authorization, content-type, openai-beta',
    allowOrigin: '*',
    maxAge: '600',
    allowHeaders: ['authorization', 'content-type', 'openai-beta'],
  },
  {
    name: 'any origin without requested headers: the default list covers the SDK headers',
    policy: ANY,
    origin: 'https://x.example',
    requestHeaders: undefined,
    allowOrigin: '*',
    maxAge: '600',
    allowHeaders: ['authorization', 'content-type', 'api-key', 'x-api-key', 'openai-organization', 'openai-beta', 'x-request-id'],
  },
  {
    name: 'listed origin: echoed, configured max-age',
    policy: LISTED,
    origin: 'https://app.example',
    requestHeaders: 'authorization',
    allowOrigin: 'https://app.example',
    maxAge: '120',
    allowHeaders: ['authorization'],
  },
  { name: 'unlisted origin: no grant', policy: LISTED, origin: 'https://evil.example', requestHeaders: 'authorization', allowOrigin: undefined, maxAge: undefined, allowHeaders: [] },
  { name: 'off: no grant', policy: OFF, origin: 'https://app.example', requestHeaders: 'authorization', allowOrigin: undefined, maxAge: undefined, allowHeaders: [] },
];

for (const c of PREFLIGHT_CASES) {
  test(`preflightHeaders — ${c.name}`, () => {
    const headers = toObject(c.policy.preflightHeaders(c.origin, c.requestHeaders));
    assert.equal(headers['access-control-allow-origin'], c.allowOrigin);
    assert.equal(headers['access-control-max-age'], c.maxAge);
    const allowed = list(headers['access-control-allow-headers']);
    for (const h of c.allowHeaders) assert.ok(allowed.includes(h), `${h} allowed: ${allowed.join(', ')}`);
    if (c.allowOrigin === undefined) {
      assert.equal(headers['access-control-allow-methods'], undefined);
      assert.equal(headers['access-control-allow-headers'], undefined);
    } else {
      const methods = list(headers['access-control-allow-methods']);
      for (const m of ['get', 'post', 'delete', 'options']) assert.ok(methods.includes(m), `${m} allowed`);
    }
  });
}

test('the enabled flag follows server.cors', () => {
  assert.equal(ANY.enabled, true);
  assert.equal(LISTED.enabled, true);
  assert.equal(OFF.enabled, false);
});
