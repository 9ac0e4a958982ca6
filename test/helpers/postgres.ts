import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { deadPort } from './dead-port.js';
import { withDeadline } from './signal.js';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL cluster for one test file: initdb in a temp dir, `postgres` on 127.0.0.1
 * at a free port, trust authentication, durability off (it is thrown away). As root it runs as the
 * `postgres` user (the server refuses to run as root). `stop` ends it by PID and removes the dir.
 * The binaries come from Debian's packages (`apt-get install -y postgresql`); without them this
 * fails with a message saying so. Set RELAY_SKIP_PG=1 to skip the PostgreSQL tests instead
 * (see `postgresSkip`).
 */
export interface TestPostgres {
  /** `postgres://relay@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  /** A URL to another database of the same cluster, with an optional password (trust ignores it). */
  urlFor(database: string, password?: string): string;
  /** Creates a database (by copying files: the quickest way on PostgreSQL 15 and later). */
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** The `skip` option for PostgreSQL tests: a reason when RELAY_SKIP_PG=1, else false. */
export function postgresSkip(): string | false {
  return process.env.RELAY_SKIP_PG === '1' ? 'RELAY_SKIP_PG=1' : false;
}

const USER = 'relay';
const READY = 'database system is ready to accept connections';

export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const owner = serverOwner();
  const dir = mkdtempSync(join(tmpdir(), 'relay-pg-'));
  if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  try {
    await copyTree(await pristineCluster(bin, owner), data, owner);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const port = await deadPort();
  const server = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=20'],
    { ...owner, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stop = async (): Promise<void> => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await withDeadline(waitReady(server), 15_000, `PostgreSQL (${bin}) to accept connections on port ${port}`);
  } catch (err) {
    await stop();
    throw err;
  }
  const urlFor = (database: string, password?: string): string =>
    `postgres://${USER}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${port}/${database}`;
  const createDatabase = async (name: string): Promise<void> => {
    const client = new pg.Client({ connectionString: urlFor('postgres') });
    await client.connect();
    try {
      const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      const strategy = Number(rows[0]?.v) >= 150_000 ? ' STRATEGY FILE_COPY' : '';
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${strategy}`);
    } finally {
      await client.end();
    }
  };
  return { url: urlFor('postgres'), port, urlFor, createDatabase, stop };
}

/**
 * initdb takes one to three seconds, most of it probing settings; a copy of its output takes a
 * tenth of that. So the first run on a machine keeps a pristine cluster in the temp dir (keyed by
 * the binaries, built aside and renamed into place so parallel runs do not collide), and every
 * run starts from a fresh copy of it.
 */
async function pristineCluster(bin: string, owner: Owner | undefined): Promise<string> {
  const stamp = statSync(join(bin, 'initdb')).mtimeMs.toFixed(0);
  const key = `${bin.replaceAll('/', '_')}-${stamp}-${owner?.uid ?? process.getuid?.() ?? 'user'}`;
  const cached = join(tmpdir(), `relay-bartender-pg-template${key}`);
  if (existsSync(join(cached, 'PG_VERSION'))) return cached;
  const scratch = mkdtempSync(join(tmpdir(), 'relay-pg-initdb-'));
  try {
    if (owner !== undefined) chownSync(scratch, owner.uid, owner.gid);
    const data = join(scratch, 'data');
    try {
      await run(join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], {
        ...owner,
        cwd: scratch,
      });
    } catch (err) {
      throw new Error(`initdb failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      renameSync(data, cached);
    } catch {
      // Another run put its template there first: use that one.
    }
    return cached;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `cp -a` keeps owners and modes (the server insists on a 0700 data directory it owns). */
async function copyTree(from: string, to: string, owner: Owner | undefined): Promise<void> {
  await run('cp', ['-a', from, to], owner === undefined ? {} : { ...owner });
}

/** The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres. */
function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  throw new Error(
    'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install them with ' +
      '`apt-get update && apt-get install -y postgresql`, or set RELAY_SKIP_PG=1 to skip the PostgreSQL tests.',
  );
}

/** As root, the `postgres` user's ids (the server will not run as root); otherwise nothing to change. */
interface Owner {
  readonly uid: number;
  readonly gid: number;
}

function serverOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readPasswd('postgres');
  if (passwd === undefined) {
    throw new Error('Running as root, and there is no `postgres` user to run the test server as (the postgresql package creates it).');
  }
  return passwd;
}

/** The ids of a user, from /etc/passwd (`name:x:uid:gid:...`). */
function readPasswd(name: string): { uid: number; gid: number } | undefined {
  let text = '';
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

async function waitReady(server: ChildProcess): Promise<void> {
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      log = (log + chunk.toString('utf8')).slice(-8_192);
      if (log.includes(READY)) {
        server.stderr?.off('data', onData);
        server.off('exit', onExit);
        // Keep reading, so a chatty server never blocks on a full pipe.
        server.stderr?.resume();
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`PostgreSQL exited (code ${code}) before it was ready:\n${log}`));
    server.stderr?.on('data', onData);
    server.once('exit', onExit);
    server.once('error', reject);
  });
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  // SIGQUIT is PostgreSQL's immediate shutdown: no checkpoint, as the data is thrown away.
  server.kill('SIGQUIT');
  await withDeadline(exited, 10_000, 'PostgreSQL to stop').catch(() => {
    server.kill('SIGKILL');
  });
}
