/**
 * Secrets at rest (the embedded Node-RED's credential secret is derived from `secret.key`). Two keys live in the data directory, each created on first start
 * with mode 0600 and never stored in the database:
 *
 * - `jwt.key`: the HS256 secret of session and media tokens (32 random bytes);
 * - `secret.key`: the AES-256-GCM key of the {@link SecretBox} that seals credentials
 *   (camera passwords, TOTP secrets) in the database and on the bus. `VIGIL_SECRET_KEY`
 *   (64 hex chars or base64 of 32 bytes) overrides the file, for deployments that keep
 *   keys elsewhere.
 */
import { hkdfSync } from 'node:crypto';
import { SecretBox, loadOrCreateKeyFile, parseKey } from '../../components/protocol/secret-box.ts';

/** The hub's keys, from the data directory (and `VIGIL_SECRET_KEY`). */
export interface HubKeys {
  jwtSecret: Buffer;
  box: SecretBox;
  /**
   * The embedded Node-RED's credential secret (64 hex chars): HKDF-SHA256 (RFC 5869) of the
   * seal key with the info `vigil node-red credentials`, so a restored `secret.key` (or
   * `VIGIL_SECRET_KEY`) opens the rules' credentials too.
   */
  nodeRedSecret: string;
}

export function loadHubKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): HubKeys {
  const jwtSecret = loadOrCreateKeyFile(`${dataDir}/jwt.key`);
  const sealKey = env.VIGIL_SECRET_KEY ? parseKey(env.VIGIL_SECRET_KEY) : loadOrCreateKeyFile(`${dataDir}/secret.key`);
  const nodeRedSecret = Buffer.from(hkdfSync('sha256', sealKey, Buffer.alloc(0), 'vigil node-red credentials', 32)).toString('hex');
  return { jwtSecret, box: new SecretBox(sealKey), nodeRedSecret };
}
