/**
 * `vigil snapshot`: the latest frame of a camera, the retained JPEG on
 * `vigil/camera/<cam>/snapshot`, as a Buffer.
 */
import type { HubConnection } from './lib/connection.ts';
import { cameraFrom, type HubNodeDef, onInput, registerHubNode } from './lib/nodes.ts';
import type { NodeAPI } from './lib/red.ts';

/** What the editor saves for a `vigil snapshot` node. */
export interface SnapshotDef extends HubNodeDef {
  /** Camera name; empty = `msg.camera`. */
  camera?: string;
}

/** How long the node waits for a snapshot. */
export const SNAPSHOT_TIMEOUT_MS = 5000;

/** True for a JPEG (SOI marker `FF D8 FF`). */
export function isJpeg(b: Buffer): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/**
 * The camera's latest snapshot: the retained one, else the next within {@link SNAPSHOT_TIMEOUT_MS}.
 * @param onGarbage told about a payload that is not a JPEG (it is skipped)
 * @throws Error when none came in time
 */
export async function latestSnapshot(conn: HubConnection, camera: string, onGarbage: (why: string) => void, signal?: AbortSignal): Promise<Buffer> {
  const topic = conn.topics.cameraSnapshot(camera);
  const jpeg = await conn.request<Buffer>({
    filters: [topic],
    replay: true,
    match: (m) => {
      if (!m.payload.length) return undefined; // cleared: the camera was removed
      if (isJpeg(m.payload)) return Buffer.from(m.payload);
      onGarbage(`${topic}: not a JPEG (${m.payload.length} bytes), skipped`);
      return undefined;
    },
    timeoutMs: SNAPSHOT_TIMEOUT_MS,
    signal,
  });
  if (!jpeg) throw new Error(`no snapshot of ${camera} on ${topic} within ${SNAPSHOT_TIMEOUT_MS / 1000} s`);
  return jpeg;
}

/** Registers the `vigil snapshot` node type. */
export default function register(RED: NodeAPI): void {
  registerHubNode<SnapshotDef>(RED, 'vigil snapshot', (node, conn, def) => {
    onInput(node, async (msg, send, signal) => {
      const camera = cameraFrom(def.camera, msg.camera);
      msg.payload = await latestSnapshot(conn, camera, (why) => node.warn(why), signal);
      msg.topic = camera;
      send(msg);
    });
  });
}
