import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/** A 127.0.0.1 port where TCP connects hang (neither accepted nor refused), for connect-timeout tests. */
export interface BlackholePort {
  readonly port: number;
  close(): void;
}

const LISTENER = "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))";

/**
 * A child process listens with a backlog of 1 and is then stopped (SIGSTOP), so it never accepts;
 * a few raw connections fill its accept queue, after which Linux drops new SYNs and a connect
 * hangs until the client gives up. The hang is verified before the port is handed out.
 */
export async function startBlackholePort(): Promise<BlackholePort> {
  const child: ChildProcess = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  const close = (): void => {
    for (const s of fillers) s.destroy();
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', (code) => reject(new Error(`listener exited (${code}) before printing its port`)));
    });
    if (child.pid === undefined) throw new Error('listener has no pid');
    process.kill(child.pid, 'SIGSTOP');
    for (let i = 0; i < 16; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      fillers.push(socket);
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 300);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!connected) return { port, close };
    }
    throw new Error('could not make connects to a stopped listener hang (accept queue never filled)');
  } catch (err) {
    close();
    throw err;
  }
}
