#!/usr/bin/env node
/**
 * Installs what `npm start` / `npm test` need and is missing, so both README commands
 * work on a fresh Debian machine with Node 20:
 *  - Debian packages through apt-get when root (otherwise prints the exact apt line and exits 1);
 *  - npm packages (`npm ci`) when node_modules is missing or older than package-lock.json;
 *  - the kiosk page (`npm run build:kiosk` → kiosk-client/dist/) when it is missing or older
 *    than any file of kiosk-client/src, components/protocol or kiosk-client/build.ts;
 *  - the admin web UI (`npm run build:www` → www/dist/) when it is missing or older than any
 *    file of www/src, www/index.html, www/vite.config.ts or package-lock.json;
 *  - Vigil's Node-RED nodes (`npm run build:nodes` → flows/nodes/*.js, flows/nodes/lib/) when
 *    missing or older than any file of flows/nodes/src, components/protocol, the package's
 *    package.json or flows/nodes/build.mts;
 *  - the detector's CenterNet converted to ONNX (`convert-centernet.ts --cache` →
 *    node_modules/.cache/vigil/centernet.onnx) when missing, made from another source model
 *    (its SHA-256 in centernet.onnx.json differs) or older than the converter's sources.
 *    A failure only warns: the ONNX loader also converts on first use.
 * Usage: node scripts/ensure-deps.mjs hub|test
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const role = process.argv[2] ?? 'hub';
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Vigil needs Node.js 20.19 or newer (found ${process.versions.node}).`);
  process.exit(1);
}

const has = (cmd, args = ['-version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const pyHasGstRtsp = () => spawnSync('/usr/bin/python3', ['-c', "import gi; gi.require_version('GstRtspServer','1.0'); from gi.repository import GstRtspServer"], { stdio: 'ignore' }).status === 0;

/** [check, debian packages] */
const needs = [[() => has(process.env.FFMPEG_PATH || 'ffmpeg'), ['ffmpeg']], [() => existsSync('/usr/share/doc/opencv-doc/examples/data/vtest.avi'), ['opencv-doc']]];
if (role === 'test') {
  needs.push(
    [() => existsSync('/usr/sbin/mosquitto') && existsSync('/usr/bin/mosquitto_sub'), ['mosquitto', 'mosquitto-clients']],
    [() => existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium'), ['chromium']],
    // The store tests and bench start their own PostgreSQL server (test/helpers/postgres.ts).
    [() => existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)), ['postgresql']],
    [pyHasGstRtsp, ['python3-gi', 'gir1.2-gst-rtsp-server-1.0', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-bad', 'gstreamer1.0-plugins-ugly', 'gstreamer1.0-libav', 'gstreamer1.0-tools']],
  );
}
const missing = [...new Set(needs.filter(([ok]) => !ok()).flatMap(([, pkgs]) => pkgs))];
if (missing.length) {
  const line = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() === 0) {
    console.log(`Installing Debian packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    execFileSync('apt-get', line.split(' ').slice(1), { stdio: 'inherit', env });
  } else {
    console.error(`Vigil needs Debian packages that are missing. Run as root:\n  sudo apt-get update && sudo ${line}`);
    process.exit(1);
  }
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const marker = 'node_modules/.package-lock.json';
if (!existsSync(marker) || mtime('package-lock.json') > mtime(marker) || !existsSync('node_modules/better-sqlite3/build/Release/better_sqlite3.node')) {
  console.log('Installing npm packages (npm ci; better-sqlite3 builds from source, ~2 min)…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
}

/** Newest modification time (ms) of the files under `dir`, recursively. */
const newest = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
  const p = join(dir, e.name);
  return Math.max(m, e.isDirectory() ? newest(p) : mtime(p));
}, 0);
const kioskJs = 'kiosk-client/dist/kiosk.js';
if (mtime(kioskJs) < Math.max(newest('kiosk-client/src'), newest('components/protocol'), mtime('kiosk-client/build.ts'), mtime('package-lock.json'))) {
  console.log('Building the kiosk page (kiosk-client/dist/)…');
  execFileSync('npm', ['run', '--silent', 'build:kiosk'], { stdio: 'inherit' });
}
// Same rule as www/build.ts wwwStale(), which tests call.
if (mtime('www/dist/index.html') < Math.max(newest('www/src'), mtime('www/index.html'), mtime('www/vite.config.ts'), mtime('package-lock.json'))) {
  console.log('Building the web UI (www/dist/)…');
  execFileSync('npm', ['run', '--silent', 'build:www'], { stdio: 'inherit' });
}
const nodesJs = 'flows/nodes/lib/vigil.js';
const nodeFiles = Object.values(JSON.parse(readFileSync('flows/nodes/package.json', 'utf8'))['node-red'].nodes).map((f) => join('flows/nodes', f));
const nodesBuilt = Math.min(mtime(nodesJs), ...nodeFiles.map(mtime));
if (nodesBuilt < Math.max(newest('flows/nodes/src'), newest('components/protocol'), mtime('flows/nodes/build.mts'), mtime('flows/nodes/package.json'), mtime('package-lock.json'))) {
  console.log('Building the Node-RED nodes (flows/nodes/)…');
  execFileSync('npm', ['run', '--silent', 'build:nodes'], { stdio: 'inherit' });
}

// CenterNet → ONNX (components/detector/onnx/): same digest as centernet-onnx-cache.ts's centernetSourceSha256().
const onnxFile = 'node_modules/.cache/vigil/centernet.onnx';
const onnxStale = () => {
  try {
    const meta = JSON.parse(readFileSync(`${onnxFile}.json`, 'utf8'));
    if (statSync(onnxFile).size !== meta.bytes) return true;
    const modelJson = 'node_modules/@vladmandic/human/models/centernet.json';
    const jsonBytes = readFileSync(modelJson);
    const hash = createHash('sha256').update(jsonBytes);
    for (const g of JSON.parse(jsonBytes.toString('utf8')).weightsManifest) for (const p of g.paths) hash.update(readFileSync(join(dirname(modelJson), p)));
    if (hash.digest('hex') !== meta.sourceSha256) return true;
    const converter = ['convert-centernet.ts', 'onnx-builder.ts', 'tfjs-graph.ts'].map((f) => join('components/detector/onnx', f));
    return mtime(onnxFile) < Math.max(...converter.map(mtime));
  } catch {
    return true;
  }
};
if (onnxStale()) {
  console.log('Converting the CenterNet detector to ONNX (node_modules/.cache/vigil/centernet.onnx)…');
  try {
    execFileSync('node_modules/.bin/tsx', ['components/detector/onnx/convert-centernet.ts', '--cache', '--force'], { stdio: 'inherit' });
  } catch (err) {
    console.warn(`CenterNet ONNX conversion failed (the loader will retry on first use): ${err.message}`);
  }
}
