import { RelayError } from '../errors.js';
import { decodeString, isLiteral, scanJson, type JsonMember } from './json-scan.js';
import type { ModelResolver } from './model-policy.js';

/**
 * The surgical model rewrite for JSON bodies: only the top-level `model` value changes; every other
 * byte is kept, and the same buffer is returned when nothing changes. A body with several top-level
 * `model` keys leaves with exactly one (JSON.parse and most backends take the last, so the last is
 * the one resolved and kept).
 */
export interface ModelEdit {
  /** The model the client named, when it named one as a string. */
  readonly asked: string | undefined;
  /** The model the backend receives. */
  readonly sent: string | undefined;
  readonly body: Buffer;
  /** The body is a JSON object whose (last) top-level `stream` is `true`. */
  readonly streams: boolean;
}

/** `strict`: the body was declared JSON, so malformed JSON is a 400. Otherwise it passes unchanged. */
export function rewriteJsonModel(body: Buffer, resolve: ModelResolver, strict: boolean): ModelEdit {
  const scan = scanJson(body);
  if (!scan.ok) {
    if (!strict) return { asked: undefined, sent: undefined, body, streams: false };
    throw new RelayError('invalid_json', `The request body is not valid JSON (at byte ${scan.offset}).`);
  }
  if (!scan.isObject) return { asked: undefined, sent: undefined, body, streams: false };
  const models: JsonMember[] = [];
  let stream: JsonMember | undefined;
  for (const m of scan.members) {
    if (m.key === 'model') models.push(m);
    else if (m.key === 'stream') stream = m;
  }
  const streams = stream !== undefined && isLiteral(body, stream, 'true');
  const last = models[models.length - 1];
  if (last === undefined) return { asked: undefined, sent: undefined, body, streams };

  const isString = body[last.valueStart] === 34;
  const asked = isString ? decodeString(body, last.valueStart, last.valueEnd) : undefined;
  const sent = resolve(asked);
  const changed = sent !== undefined && sent !== asked;
  if (!changed && models.length === 1) return { asked, sent: asked, body, streams };

  const replacement = changed ? Buffer.from(JSON.stringify(sent)) : undefined;
  return { asked, sent: changed ? sent : asked, body: splice(body, scan.members, models, last, replacement), streams };
}

/** Rebuilds the body from slices: drops the earlier duplicate `model` members, replaces the last value. */
function splice(body: Buffer, members: JsonMember[], models: JsonMember[], last: JsonMember, replacement: Buffer | undefined): Buffer {
  const cuts: [number, number, Buffer | null][] = [];
  for (const m of models) {
    if (m === last) {
      if (replacement) cuts.push([m.valueStart, m.valueEnd, replacement]);
      continue;
    }
    // A dropped member takes the text up to the next member with it, so the commas stay right.
    const next = members[members.indexOf(m) + 1];
    if (next) cuts.push([m.keyStart, next.keyStart, null]);
  }
  cuts.sort((a, b) => a[0] - b[0]);
  const parts: Buffer[] = [];
  let at = 0;
  for (const [start, end, insert] of cuts) {
    parts.push(body.subarray(at, start));
    if (insert) parts.push(insert);
    at = end;
  }
  parts.push(body.subarray(at));
  return Buffer.concat(parts);
}
