import { WebSocket, type RawData } from 'ws';

/**
 * Two open WebSockets joined: every message passes as it came (text stays text, binary stays binary,
 * a fragmented message arrives whole), pings and pongs are forwarded so liveness is end to end, and
 * close codes and reasons travel both ways. Backpressure: when one side's peer has more than
 * HIGH_WATER bytes queued, reading from that side stops until the queue is flushed, so a slow
 * reader slows the sender down instead of growing the relay's memory.
 */

export type BridgeSide = 'client' | 'backend';

export interface BridgeStats {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  /** The code of the close that ended the session (the first one). */
  closeCode: number | undefined;
  closedBy: BridgeSide | 'relay' | undefined;
  /** ws's code for a protocol violation by a side (e.g. WS_ERR_UNSUPPORTED_MESSAGE_LENGTH over maxPayload). */
  error: string | undefined;
}

export interface BridgeOptions {
  /** 0: no idle limit. Any frame either way (pings included) counts as activity. */
  readonly idleTimeoutMs: number;
  /** Client text messages pass through it (the session.update model rewrite); the same buffer means unchanged. */
  readonly rewriteClientText: ((data: Buffer) => Buffer) | undefined;
  readonly onEnd: (stats: BridgeStats) => void;
}

export interface Bridge {
  /**
   * Closes both sides with this code (idle timeout, shutdown); sockets that don't answer are cut
   * after CLOSE_GRACE_MS. Resolves when the session has ended (onEnd has run).
   */
  close(code: number, reason: string): Promise<void>;
}

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
/** How long a relay-initiated close may wait for the peers' answers before the sockets are cut. */
const CLOSE_GRACE_MS = 2000;
/** Sent when a side vanished without a close frame (1006): the client left, or the backend broke (1014, "bad gateway"). */
const GONE = { client: { code: 1001, reason: 'client went away' }, backend: { code: 1014, reason: 'backend connection lost' } } as const;

export function bridge(client: WebSocket, backend: WebSocket, options: BridgeOptions): Bridge {
  const stats: BridgeStats = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, closeCode: undefined, closedBy: undefined, error: undefined };
  const closed = { client: false, backend: false };
  let killTimer: NodeJS.Timeout | undefined;
  let markEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const idle = options.idleTimeoutMs > 0 ? setTimeout(() => void closeBoth(1001, 'idle timeout'), options.idleTimeoutMs) : undefined;
  const touch = idle === undefined ? () => undefined : () => idle.refresh();

  const closeBoth = (code: number, reason: string): Promise<void> => {
    if (stats.closedBy === undefined) {
      stats.closedBy = 'relay';
      stats.closeCode = code;
    }
    for (const ws of [client, backend]) sendClose(ws, code, reason);
    killTimer ??= setTimeout(() => {
      client.terminate();
      backend.terminate();
    }, CLOSE_GRACE_MS);
    return ended;
  };

  const join = (side: BridgeSide, from: WebSocket, to: WebSocket, rewrite: ((data: Buffer) => Buffer) | undefined): void => {
    from.on('message', (raw: RawData, isBinary: boolean) => {
      touch();
      let data = toBuffer(raw);
      if (side === 'client') {
        stats.framesIn++;
        stats.bytesIn += data.length;
        if (!isBinary && rewrite !== undefined) data = rewrite(data);
      } else {
        stats.framesOut++;
        stats.bytesOut += data.length;
      }
      if (to.readyState !== WebSocket.OPEN) return;
      to.send(data, { binary: isBinary }, () => {
        if (from.isPaused && to.bufferedAmount <= LOW_WATER) from.resume();
      });
      if (to.bufferedAmount > HIGH_WATER && !from.isPaused) from.pause();
    });
    from.on('ping', (data: Buffer) => {
      touch();
      if (to.readyState === WebSocket.OPEN) to.ping(data);
    });
    from.on('pong', (data: Buffer) => {
      touch();
      if (to.readyState === WebSocket.OPEN) to.pong(data);
    });
    // ws answers a protocol violation (a message over maxPayload: 1009) with a close of its own;
    // the 'close' that follows does the rest.
    from.on('error', (err: Error & { code?: unknown }) => {
      stats.error ??= typeof err.code === 'string' ? err.code : 'error';
    });
    from.on('close', (code: number, reason: Buffer) => {
      closed[side] = true;
      if (stats.closedBy === undefined) {
        stats.closedBy = side;
        stats.closeCode = code;
      }
      if (code === 1005) sendClose(to, undefined, '');
      else if (code === 1006 || code === 1015) sendClose(to, GONE[side].code, GONE[side].reason);
      else sendClose(to, code, reason.toString());
      if (closed.client && closed.backend) {
        if (idle !== undefined) clearTimeout(idle);
        if (killTimer !== undefined) clearTimeout(killTimer);
        options.onEnd(stats);
        markEnded();
      }
    });
  };

  join('client', client, backend, options.rewriteClientText);
  join('backend', backend, client, undefined);
  return { close: closeBoth };
}

/** Starts the close handshake on a side still open. `code` undefined sends a close frame without a status (the peer sees 1005). */
function sendClose(ws: WebSocket, code: number | undefined, reason: string): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  // A paused side could not read the peer's answering close frame.
  ws.resume();
  if (code === undefined) ws.close();
  else ws.close(code, reason);
}

function toBuffer(raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.from(raw);
}
