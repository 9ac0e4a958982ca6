import type { RunningRelay } from './start-relay.js';
import { withDeadline } from './signal.js';

/** The access-log line of the request with this x-request-id (lines of other requests are skipped). */
export async function accessLogFor(relay: RunningRelay, requestId: string, ms = 5_000): Promise<Record<string, unknown>> {
  const seen = relay.logs.find((line) => line.msg === 'request' && line.request_id === requestId);
  if (seen) return seen;
  return withDeadline(
    (async () => {
      for (;;) {
        const line = await relay.nextAccessLog();
        if (line.request_id === requestId) return line;
      }
    })(),
    ms,
    `the access-log line of ${requestId}`,
  );
}
