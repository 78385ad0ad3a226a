/**
 * Runs test/fixtures/onvif-ui-stack.ts (RTSP test camera, ONVIF test device, test hub) for
 * a browser test, and a Debian Chromium that reaches it.
 *
 * Where the machine can make a private network namespace ({@link netnsSupport}), the stack
 * runs inside one (multicast on its `lo`, {@link NETNS_MULTICAST_SETUP}) with the device
 * answering WS-Discovery, so the hub's discovery finds it and nothing else — and nothing
 * leaks onto the host's network. Chromium then runs in the same namespace through
 * `nsenter --net=/proc/<pid>/ns/net` (a wrapper script as playwright's executable; the
 * CDP pipe on fds 3 and 4 passes through `exec`). Elsewhere the stack runs as a plain
 * child process without discovery (also with `VIGIL_TEST_NO_NETNS=1`).
 *
 * The test reaches the stack's hub and device through {@link OnvifUiStack.request}
 * (JSON lines on the child's stdin/stdout), since the hub's port may be inside the namespace.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { StackInfo, StackRequest } from '../fixtures/onvif-ui-stack.ts';
import { NETNS_MULTICAST_SETUP, netnsSupport } from './netns.ts';

/** A stack request without its id (the helper numbers them). */
export type StackAsk = StackRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

const SCRIPT = fileURLToPath(new URL('../fixtures/onvif-ui-stack.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 90_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** A running stack. */
export interface OnvifUiStack extends StackInfo {
  /** Whether it runs in its own network namespace (then discovery works). */
  netns: boolean;
  /** Why it does not, when it does not. */
  netnsReason: string | null;
  /** Asks the stack (see the fixture's ops). @throws the stack's error, or a timeout */
  request<T>(req: StackAsk): Promise<T>;
  /** REST call to the stack's hub as the test admin. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Launches Debian's Chromium where it reaches the stack's hub. */
  launchBrowser(): Promise<Browser>;
  /** Everything the stack printed on stderr (the last 64 KiB). */
  stderr(): string;
  /** Stops the stack (closing its stdin; SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/** Starts the stack. @throws when it is not ready within 90 s (with its stderr) */
export async function startOnvifUiStack(): Promise<OnvifUiStack> {
  // VIGIL_TEST_NO_NETNS=1 tries the fallback on a machine that has namespaces.
  const ns = process.env.VIGIL_TEST_NO_NETNS ? { ok: false as const, reason: 'VIGIL_TEST_NO_NETNS is set' } : netnsSupport();
  const node = [process.execPath, '--import', 'tsx', SCRIPT];
  const env = { ...process.env, ONVIF_UI_DISCOVERY: ns.ok ? '1' : '0' };
  const child: ChildProcessWithoutNullStreams = ns.ok
    ? spawn('unshare', ['--net', '--', 'sh', '-c', `${NETNS_MULTICAST_SETUP} && exec "$@"`, 'netns', ...node], { cwd: ROOT, env })
    : spawn(node[0]!, node.slice(1), { cwd: ROOT, env });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr = (stderr + c).slice(-64 * 1024); });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((r) => child.once('close', () => r()));

  const info = await new Promise<StackInfo>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`ONVIF UI stack not ready in ${READY_TIMEOUT_MS / 1000} s; stderr:\n${stderr.slice(-4000)}`)); }, READY_TIMEOUT_MS);
    child.once('close', (code) => { clearTimeout(timer); reject(new Error(`ONVIF UI stack exited (${code}) before READY; stderr:\n${stderr.slice(-4000)}`)); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as StackInfo);
      } else if (line.startsWith('REPLY ')) {
        const r = JSON.parse(line.slice(6)) as { id: number; value?: unknown; error?: string };
        const p = pending.get(r.id);
        pending.delete(r.id);
        if (r.error !== undefined) p?.reject(new Error(r.error));
        else p?.resolve(r.value);
      }
    });
  });

  const request = <T>(req: StackAsk): Promise<T> => new Promise<T>((resolve, reject) => {
    const id = nextId++;
    const timer = setTimeout(() => { pending.delete(id); reject(new Error(`stack request ${JSON.stringify(req)} timed out`)); }, REQUEST_TIMEOUT_MS);
    pending.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v as T); }, reject: (e) => { clearTimeout(timer); reject(e); } });
    child.stdin.write(`${JSON.stringify({ ...req, id })}\n`);
  });

  const tmp = mkdtempSync(join(tmpdir(), 'vigil-onvif-ui-'));
  const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  return {
    ...info,
    netns: ns.ok,
    netnsReason: ns.ok ? null : ns.reason,
    request,
    api: (method, path, body) => request({ op: 'api', method, path, body }),
    async launchBrowser() {
      let executablePath = chromiumPath;
      if (ns.ok) {
        executablePath = join(tmp, 'chromium-in-netns.sh');
        writeFileSync(executablePath, `#!/bin/sh\nexec nsenter --net=/proc/${child.pid}/ns/net -- ${JSON.stringify(chromiumPath)} "$@"\n`);
        chmodSync(executablePath, 0o755);
      }
      return chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    },
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin.end();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(kill);
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
