/**
 * Atomic file writes for the hub and every component: readers see the old file or the
 * new one, never half of one, and two writes of the same file never trip over each other.
 *
 * - **Unique temporary names.** Each write goes to `<file>.<pid>.<16 hex>.tmp` in the same
 *   directory (so `rename(2)` stays on one file system and is atomic, POSIX.1-2017
 *   `rename()`), then is renamed over `<file>`. A shared name such as `<file>.tmp` let two
 *   concurrent writes rename the same temporary file, and the second failed with `ENOENT`
 *   (Vigil issue #12: `ENOENT rename snapshots/demo/<id>.jpg.tmp`).
 * - **One writer per file.** In this process, the async writes of one path run one after
 *   the other, in call order, so the last call wins. A queued data write that a later data
 *   write of the same path supersedes is skipped (it would be overwritten at once) and
 *   resolves as done. Across processes, unique names keep writes apart and the last
 *   rename wins.
 * - **Clean-up.** A failed write removes its temporary file; {@link removeTempFiles}
 *   removes those a crash left behind.
 * - **Durability** (`fsync`, default on): the temporary file is flushed before the rename
 *   and the directory after it, so a power cut leaves the old or the new content, not an
 *   empty file. Frequent, losable files (event snapshots) may turn it off.
 *
 * npm's `write-file-atomic` does the same for buffers (it serializes per path, too), but
 * not for files another process produces (ffmpeg writing an export to a path we give it,
 * {@link replaceFileAtomic}), nor exclusive creation of key files
 * ({@link createFileExclusiveSync}); one module keeps one queue and one temp-name scheme
 * for all of them.
 *
 * The per-path queue is per process (module state), as the file system it guards is.
 * Node-only: browser code must not import this file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Options of the atomic writes. */
export interface AtomicWriteOptions {
  /** File mode of the new file (e.g. `0o600` for secrets), before the umask. Default `0o666`. */
  mode?: number;
  /** Flush the file before the rename and its directory after (default true). */
  fsync?: boolean;
}

/** Suffix of every temporary file this module writes. */
export const TEMP_SUFFIX = '.tmp';

/**
 * A fresh temporary path next to `file`: `<file>.<pid>.<16 hex digits>.tmp` (64 random bits:
 * unique among concurrent writers in this and other processes).
 */
export function tempPathFor(file: string): string {
  return `${file}.${process.pid}.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`;
}

/** True when `name` (a file name, no directory) is a temporary file of `target`'s name as {@link tempPathFor} makes them. */
export function isTempFileOf(targetName: string, name: string): boolean {
  if (!name.startsWith(`${targetName}.`) || !name.endsWith(TEMP_SUFFIX)) return false;
  return /^\d+\.[0-9a-f]{16}$/.test(name.slice(targetName.length + 1, -TEMP_SUFFIX.length));
}

interface Lane {
  /** The tail of this path's queue. */
  tail: Promise<void>;
  /** Ticket of the newest data write queued (superseded ones are skipped). */
  newestData: number;
  /** Writes queued or running. */
  pending: number;
}

const lanes = new Map<string, Lane>();
let tickets = 0;

/** Runs `job` after every earlier job of `file` (absolute path) has settled. */
function enqueue<T>(file: string, job: (lane: Lane) => Promise<T>): Promise<T> {
  let lane = lanes.get(file);
  if (!lane) {
    lane = { tail: Promise.resolve(), newestData: 0, pending: 0 };
    lanes.set(file, lane);
  }
  const l = lane;
  l.pending++;
  const run = l.tail.then(() => job(l));
  l.tail = run.then(() => undefined, () => undefined).finally(() => {
    if (--l.pending === 0 && lanes.get(file) === l) lanes.delete(file);
  });
  return run;
}

/** Number of paths with writes queued or running in this process (for tests and status). */
export function pendingWrites(): number {
  return lanes.size;
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try { await h.sync(); } finally { await h.close(); }
  } catch {
    // Some file systems (and platforms) cannot fsync a directory: the rename still happened.
  }
}

/**
 * Replaces `file` with `data` atomically (see the module doc): writes a unique temporary
 * file, flushes it (unless `fsync: false`), renames it over `file`. Writes of the same
 * path are serialized, last call wins; a write superseded while queued is skipped.
 * The directory must exist.
 * @throws the file system's error (ENOENT for a missing directory, ENOSPC, EACCES …) after
 *   removing the temporary file; `file` then keeps its previous content
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const path = resolve(file);
  const ticket = ++tickets;
  const p = enqueue(path, async (l) => {
    if (l.newestData > ticket) return; // a later write of this path is queued: its content wins anyway
    await writeTemp(path, async (tmp) => {
      const h = await open(tmp, 'wx', opts.mode ?? 0o666);
      try {
        await h.writeFile(data);
        if (opts.fsync !== false) await h.sync();
      } finally {
        await h.close();
      }
    }, opts);
  });
  lanes.get(path)!.newestData = ticket; // set before the job runs: enqueue starts it asynchronously
  return p;
}

/**
 * Replaces `file` with what `produce` writes to the temporary path it is given (e.g.
 * ffmpeg's output), atomically and serialized with every other write of `file`. The
 * temporary file is removed when `produce` or the rename fails.
 * @param produce writes the complete new content to `tmp` (creating it); anything it throws is rethrown
 * @throws what `produce` throws, or the file system's error of the rename
 */
export function replaceFileAtomic(file: string, produce: (tmp: string) => Promise<void>, opts: Pick<AtomicWriteOptions, 'fsync'> = {}): Promise<void> {
  const path = resolve(file);
  return enqueue(path, () => writeTemp(path, async (tmp) => {
    await produce(tmp);
    if (opts.fsync !== false) {
      const h = await open(tmp, 'r+');
      try { await h.sync(); } finally { await h.close(); }
    }
  }, opts));
}

/** `fill(tmp)`, then rename over `path`; the temporary file never outlives a failure. */
async function writeTemp(path: string, fill: (tmp: string) => Promise<void>, opts: AtomicWriteOptions): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await fill(tmp);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  if (opts.fsync !== false) await fsyncDir(dirname(path));
}

/**
 * Synchronous {@link writeFileAtomic} for start-up code (key and config files): a unique
 * temporary file, flushed, renamed over `file`. Not queued: in one thread a synchronous
 * write cannot interleave with another, but an async write of the same path still in
 * flight may land after it.
 * @throws the file system's error after removing the temporary file
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const path = resolve(file);
  const tmp = writeTempSync(path, data, opts);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (opts.fsync !== false) fsyncDirSync(dirname(path));
}

/**
 * Creates `file` with `data` only if it does not exist, atomically: the content is written
 * to a temporary file and hard-linked into place (`link(2)` fails with `EEXIST` rather
 * than replace), so no reader ever sees a partial file and of two racing creators exactly
 * one wins. On file systems without hard links (`EPERM`, `ENOTSUP`, `ENOSYS`) it falls back
 * to an exclusive `open(O_EXCL)` and write.
 * @returns true when this call created the file, false when it already existed
 * @throws the file system's error (other than `EEXIST`)
 */
export function createFileExclusiveSync(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): boolean {
  const path = resolve(file);
  const tmp = writeTempSync(path, data, opts);
  try {
    linkSync(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    try {
      writeFileSync(path, data, { mode: opts.mode ?? 0o666, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } finally {
    try { unlinkSync(tmp); } catch { /* already gone */ }
  }
  if (opts.fsync !== false) fsyncDirSync(dirname(path));
  return true;
}

function writeTempSync(path: string, data: string | Uint8Array, opts: AtomicWriteOptions): string {
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, 'wx', opts.mode ?? 0o666);
    try {
      writeFileSync(fd, data);
      if (opts.fsync !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return tmp;
}

function fsyncDirSync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch {
    // see fsyncDir
  }
}

/**
 * Removes temporary files of `file` left by writers that died mid-write
 * (`<file>.<pid>.<hex>.tmp`, see {@link tempPathFor}); call it where nothing writes `file`
 * at the moment (start-up, deletion).
 * @returns how many were removed (0 when the directory does not exist)
 */
export async function removeTempFiles(file: string): Promise<number> {
  const path = resolve(file);
  const dir = dirname(path);
  const name = basename(path);
  let names: string[];
  try { names = await readdir(dir); } catch { return 0; }
  let n = 0;
  for (const x of names) {
    if (!isTempFileOf(name, x)) continue;
    await rm(join(dir, x), { force: true });
    n++;
  }
  return n;
}
