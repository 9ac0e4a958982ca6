import { isLiteral, scanJson, type JsonMember } from '../proxy/json-scan.js';

/**
 * Asks a chat-completions backend for the usage chunk of a stream (issue 5): when the body has
 * `"stream": true` and does not already ask for `stream_options.include_usage: true`, the member is
 * added, surgically:
 * - `stream_options` is an object: `include_usage` is set inside it (its value replaced when
 *   present, else the member appended);
 * - `stream_options` is null or absent: it becomes / gets `{"include_usage":true}`.
 * Every other byte is kept. Anything else (invalid JSON, not an object, `stream` not `true`, a
 * `stream_options` of another type, which the backend will reject as it would have) leaves the
 * same buffer, with `injected: false`. When `injected` is true, the response stream must go through
 * `SseUsageTap` with `stripInjectedUsage`, so the client sees what it would have seen.
 */
export interface StreamUsageRequest {
  readonly body: Buffer;
  readonly injected: boolean;
}

const INCLUDE_USAGE = '"include_usage":true';
const STREAM_KEY = Buffer.from('"stream"');

export function requestStreamUsage(body: Buffer): StreamUsageRequest {
  const unchanged = { body, injected: false };
  // Most bodies do not stream: they are left without a scan.
  if (!body.includes(STREAM_KEY)) return unchanged;
  const scan = scanJson(body);
  if (!scan.ok || !scan.isObject) return unchanged;
  const { members } = scan;
  const stream = lastMember(members, 'stream');
  if (stream === undefined || !isLiteral(body, stream, 'true')) return unchanged;

  const options = lastMember(members, 'stream_options');
  if (options === undefined) {
    const last = members[members.length - 1] as JsonMember;
    return { body: splice(body, last.valueEnd, last.valueEnd, `,"stream_options":{${INCLUDE_USAGE}}`), injected: true };
  }
  if (isLiteral(body, options, 'null')) {
    return { body: splice(body, options.valueStart, options.valueEnd, `{${INCLUDE_USAGE}}`), injected: true };
  }
  if (body[options.valueStart] !== 123 /* { */) return unchanged;

  // The nested object was validated with the whole body; scanning it alone gives its members.
  const inner = body.subarray(options.valueStart, options.valueEnd);
  const innerScan = scanJson(inner);
  if (!innerScan.ok) return unchanged;
  const include = lastMember(innerScan.members, 'include_usage');
  if (include !== undefined) {
    if (isLiteral(inner, include, 'true')) return unchanged;
    return { body: splice(body, options.valueStart + include.valueStart, options.valueStart + include.valueEnd, 'true'), injected: true };
  }
  const lastInner = innerScan.members[innerScan.members.length - 1];
  if (lastInner === undefined) {
    // An empty object: the member goes right after its brace.
    const at = options.valueStart + 1;
    return { body: splice(body, at, at, INCLUDE_USAGE), injected: true };
  }
  const at = options.valueStart + lastInner.valueEnd;
  return { body: splice(body, at, at, `,${INCLUDE_USAGE}`), injected: true };
}

/** JSON.parse and most backends take the last of duplicate keys. */
function lastMember(members: readonly JsonMember[], key: string): JsonMember | undefined {
  for (let i = members.length - 1; i >= 0; i--) {
    const m = members[i] as JsonMember;
    if (m.key === key) return m;
  }
  return undefined;
}

function splice(body: Buffer, start: number, end: number, insert: string): Buffer {
  return Buffer.concat([body.subarray(0, start), Buffer.from(insert), body.subarray(end)]);
}
