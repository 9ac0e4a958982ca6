import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import OpenAI from 'openai';
import { deadPort } from '../helpers/dead-port.js';
import { hang, replyChat, replyJson, replySse, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.js';
import { runCli, spawnRelay, writeConfig, type SpawnedRelay } from '../helpers/spawn-relay.js';

const BACKEND_KEY = 'sk-backend-TOPSECRET-0123456789abcdef';
const ACCESS_KEY = 'relay-access-TOPSECRET-fedcba9876543210';
const CLIENT_KEY = 'sk-client-TOPSECRET-55555';
const SECRETS = [BACKEND_KEY, ACCESS_KEY, CLIENT_KEY, 'TOPSECRET'];

const running: (SpawnedRelay | MockUpstream)[] = [];
after(async () => {
  for (const r of running) {
    if ('proc' in r) r.proc.kill('SIGKILL');
    else await r.close();
  }
});

function assertNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} contains a secret (${secret.slice(0, 8)}…)`);
}

test('no key appears in any log line, error body or --check output, failures included, at debug level', { timeout: 30_000 }, async () => {
  const upstream = await startMockUpstream(replyChat());
  running.push(upstream);
  const dead = await deadPort();
  const yaml = (base: string, timeout = 2) =>
    writeConfig(
      `server: {host: 127.0.0.1, port: 0}\nbackend: {base_url: "${base}", api_key: "\${BACKEND}"}\nmodel: {mapping: {gpt-4: gpt-4-turbo}}\n` +
        `request: {timeout: ${timeout}, connect_timeout: 1, max_body_size: 2kb}\nauth: {keys: ["\${ACCESS}"]}\nlog: {level: trace}\n`,
    );
  const env = { BACKEND: BACKEND_KEY, ACCESS: ACCESS_KEY };
  const bodies: string[] = [];

  const check = await runCli(['--check', '-c', yaml(upstream.url)], env);
  assert.equal(check.code, 0);
  assert.match(check.stdout, /sha256:[0-9a-f]{8}/);
  assertNoSecret('--check output', check.stdout + check.stderr);

  const relay = await spawnRelay(['-c', yaml(upstream.url, 0.5)], env);
  running.push(relay);
  const client = new OpenAI({ apiKey: ACCESS_KEY, baseURL: `${relay.url}/v1`, maxRetries: 0 });
  const wrong = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${relay.url}/v1`, maxRetries: 0 });

  // Success, streaming, upstream error, timeout, bad JSON, too large, bad key, client abort.
  await client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] });
  upstream.handle(replySse(['x', 'y']));
  for await (const chunk of await client.chat.completions.create({ model: 'gpt-4', messages: [], stream: true })) void chunk;
  upstream.handle(replyJson(401, { error: { message: 'Incorrect API key provided: sk-backe***', type: 'invalid_request_error', code: 'invalid_api_key' } }));
  await assert.rejects(client.models.list());
  upstream.handle(hang());
  await assert.rejects(client.models.list(), /504/);
  for (const [body, type] of [['{"model": "gpt-4",', 'application/json'], [`{"model":"gpt-4","x":"${'a'.repeat(4096)}"}`, 'application/json']] as const) {
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': type, authorization: `Bearer ${ACCESS_KEY}`, 'x-api-key': CLIENT_KEY },
      body,
    });
    bodies.push(await res.text());
    assert.ok(res.status === 400 || res.status === 413);
  }
  await assert.rejects(wrong.models.list(), /401/);
  for (const header of ['authorization', 'x-api-key', 'api-key']) {
    const res = await fetch(`${relay.url}/v1/models`, { headers: { [header]: header === 'authorization' ? `Bearer ${CLIENT_KEY}` : CLIENT_KEY } });
    bodies.push(await res.text());
    assert.equal(res.status, 401);
  }
  const socket = connect(relay.port, '127.0.0.1');
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ACCESS_KEY}\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n`);
  bodies.push(await new Promise<string>((resolve) => {
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('close', () => resolve(data));
  }));

  // A backend that refuses connections.
  const refused = await spawnRelay(['-c', yaml(`http://127.0.0.1:${dead}`)], env);
  running.push(refused);
  const refusedClient = new OpenAI({ apiKey: ACCESS_KEY, baseURL: `${refused.url}/v1`, maxRetries: 0 });
  await assert.rejects(refusedClient.models.list(), /502/);

  relay.proc.kill('SIGTERM');
  refused.proc.kill('SIGTERM');
  await Promise.all([relay.exited, refused.exited]);
  const output = relay.stdout() + relay.stderr() + refused.stdout() + refused.stderr();
  assert.match(output, /"level":10|"level":20/, 'debug logging was on');
  assert.match(output, /"msg":"request"/);
  assertNoSecret('relay output', output);
  assertNoSecret('error bodies', bodies.join('\n'));
  // The backend saw the backend key only.
  for (const r of upstream.requests) assert.equal(r.headers.authorization, `Bearer ${BACKEND_KEY}`);
});
