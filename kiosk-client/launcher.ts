/**
 * Kiosk launcher: `npm run kiosk -- --hub http://host:8080 [--display <id>] [--profile <dir>]`.
 *
 * Opens Debian's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) full-screen in kiosk
 * mode on `<hub>/kiosk`, with a persistent profile (`--user-data-dir`, default
 * `$XDG_CONFIG_HOME/vigil-kiosk` or `~/.config/vigil-kiosk`) so the pairing stored by the page
 * survives restarts, autoplay without a gesture, and no error dialogs, info bars or
 * "restore pages" bubble. When Chromium exits with an error or a signal it is started again
 * (1 s, doubling to 30 s; back to 1 s after a minute of running); a clean exit (status 0)
 * ends the launcher. SIGINT/SIGTERM stop Chromium and the launcher.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** What the launcher runs with. */
export interface LauncherOptions {
  /** The page: `<hub>/kiosk`, with `?display=<id>` when given. */
  url: string;
  /** Chromium profile directory (absolute). */
  profile: string;
  /** Chromium executable. */
  chromium: string;
}

/** A command line the launcher cannot use; `message` says why and how to call it. */
export class UsageError extends Error {}

/** The launcher's usage line (printed with every {@link UsageError}). */
export const USAGE = 'usage: npm run kiosk -- --hub http://HOST:PORT [--display ID] [--profile DIR]';

/**
 * Reads the launcher's arguments.
 * @param argv the arguments after the script (`process.argv.slice(2)`)
 * @param env environment (`CHROMIUM_PATH`, `XDG_CONFIG_HOME`)
 * @throws UsageError for an unknown option, a missing or non-http(s) `--hub`, a display id
 *   that is not a slug, or `--help`
 */
export function parseLauncherArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LauncherOptions {
  let values: { hub?: string; display?: string; profile?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { hub: { type: 'string' }, display: { type: 'string' }, profile: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  if (!values.hub) throw new UsageError(`--hub is required\n${USAGE}`);
  let hub: URL;
  try { hub = new URL(values.hub); } catch { throw new UsageError(`--hub: not a URL: ${values.hub}\n${USAGE}`); }
  if (hub.protocol !== 'http:' && hub.protocol !== 'https:') throw new UsageError(`--hub: must be http:// or https://, not ${hub.protocol}\n${USAGE}`);
  if (values.display !== undefined && !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(values.display)) {
    throw new UsageError(`--display: must be a display id (lower-case slug), not ${JSON.stringify(values.display)}\n${USAGE}`);
  }
  const page = new URL('/kiosk', hub);
  if (values.display) page.searchParams.set('display', values.display);
  const config = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return {
    url: page.href,
    profile: resolve(values.profile ?? join(config, 'vigil-kiosk')),
    chromium: env.CHROMIUM_PATH || '/usr/bin/chromium',
  };
}

/** Chromium's command line for `o` (kiosk mode, persistent profile, autoplay, no dialogs). */
export function chromiumArgs(o: LauncherOptions): string[] {
  return [
    '--kiosk', `--user-data-dir=${o.profile}`,
    '--autoplay-policy=no-user-gesture-required',
    '--noerrdialogs', '--disable-infobars', '--disable-session-crashed-bubble',
    '--no-first-run', '--no-default-browser-check', '--password-store=basic',
    '--disable-features=Translate,MediaRouter', '--disable-pinch', '--overscroll-history-navigation=0',
    o.url,
  ];
}

/** Runs Chromium until it exits cleanly or the launcher is stopped; restarts it after failures. */
async function run(o: LauncherOptions): Promise<number> {
  if (!existsSync(o.chromium)) {
    console.error(`Chromium not found at ${o.chromium}: apt-get install chromium, or set CHROMIUM_PATH`);
    return 1;
  }
  let stopping = false;
  let child: ReturnType<typeof spawn> | null = null;
  const stop = (): void => { stopping = true; child?.kill('SIGTERM'); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let delay = 1_000;
  for (;;) {
    const started = Date.now();
    console.log(`kiosk: starting ${o.chromium} on ${o.url} (profile ${o.profile})`);
    child = spawn(o.chromium, chromiumArgs(o), { stdio: ['ignore', 'inherit', 'inherit'] });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => {
      child!.once('error', (e) => { console.error(`kiosk: cannot start Chromium: ${e.message}`); res([127, null]); });
      child!.once('exit', (c, s) => res([c, s]));
    });
    if (stopping) return 0;
    if (code === 0) { console.log('kiosk: Chromium closed'); return 0; }
    if (Date.now() - started > 60_000) delay = 1_000;
    console.error(`kiosk: Chromium exited (${signal ?? `status ${code}`}); restarting in ${delay / 1000} s`);
    await new Promise((r) => setTimeout(r, delay));
    if (stopping) return 0;
    delay = Math.min(delay * 2, 30_000);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  let opts: LauncherOptions;
  try {
    opts = parseLauncherArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message);
    process.exit(e.message === USAGE ? 0 : 2);
  }
  run(opts).then((code) => process.exit(code));
}
