import { decodeString, scanJson } from '../proxy/json-scan.js';
import type { ModelResolver } from '../proxy/model-policy.js';
import { rewriteJsonModel } from '../proxy/model-rewrite.js';

/**
 * The one client event that names a model mid-session: `{"type":"session.update","session":{"model":…}}`.
 * Its `session.model` is resolved like a body's `model` and rewritten surgically (every other byte
 * kept, the same buffer returned when nothing changes); every other event passes untouched.
 */
export interface SessionModelEdit {
  readonly asked: string | undefined;
  readonly sent: string | undefined;
  readonly data: Buffer;
}

const SESSION_UPDATE = 'session.update';
const MARKER = Buffer.from(`"${SESSION_UPDATE}"`);
const BACKSLASH = 0x5c;

/** Undefined when the frame is not a `session.update` naming a model (then it passes as it came). */
export function rewriteSessionModel(data: Buffer, resolve: ModelResolver): SessionModelEdit | undefined {
  // Cheap test first, so audio appends never pay for a scan. Without a backslash the type can only
  // be spelled one way; with one (`"session\u002eupdate"`) the scan decides, so an escaped spelling
  // cannot slip a model past model.override.
  if (!data.includes(MARKER) && !data.includes(BACKSLASH)) return undefined;
  const scan = scanJson(data);
  if (!scan.ok || !scan.isObject) return undefined;
  const type = scan.members.findLast((m) => m.key === 'type');
  if (type === undefined || data[type.valueStart] !== 34 || decodeString(data, type.valueStart, type.valueEnd) !== SESSION_UPDATE) return undefined;
  const session = scan.members.findLast((m) => m.key === 'session');
  if (session === undefined || data[session.valueStart] !== 123 /* { */) return undefined;

  const inner = data.subarray(session.valueStart, session.valueEnd);
  const edit = rewriteJsonModel(inner, resolve, false);
  if (edit.asked === undefined && edit.sent === undefined && edit.body === inner) return undefined;
  if (edit.body === inner) return { asked: edit.asked, sent: edit.sent, data };
  return {
    asked: edit.asked,
    sent: edit.sent,
    data: Buffer.concat([data.subarray(0, session.valueStart), edit.body, data.subarray(session.valueEnd)]),
  };
}
