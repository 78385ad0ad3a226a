/**
 * The camera head's configuration: a YAML file (`--config`, `VIGIL_HEAD_CONFIG`, else
 * `./head.yaml` when it exists) validated by one zod schema; every error names its path
 * (`mqtt.url: …`). The variant block (`variant`, `overrides`) is `variants.ts`'s.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ROLES } from './state/types.ts';

const host = z.string().min(1).max(255);
const port = z.number().int().min(0).max(65535);

export const headConfigSchema = z
  .object({
    /** The head's id on the bus (`vigil/head/<id>/…`) and its camera's name on the hub (`head_<id>`). */
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'a lower-case slug (a-z, 0-9, _ -), at most 32 characters'),
    name: z.string().min(1).max(64).default('Camera head'),
    model: z.string().max(64).default('Vigil camera head (simulated)'),
    /** State, users, recordings. */
    data_dir: z.string().min(1).default('./data-head'),
    /** Feature profile: `DEFAULT`, `DEMO`, `DEV`, `EDU`, `OEM` (see `variants.ts`). */
    variant: z.enum(['DEFAULT', 'DEMO', 'DEV', 'EDU', 'OEM']).default('DEFAULT'),
    /** Per-variant overrides (branding, modules, defaults), as `variants.ts` takes them. */
    overrides: z.record(z.string(), z.unknown()).optional(),
    mqtt: z
      .object({
        /** The hub's broker, e.g. `mqtt://hub.local:1883`; omitted = no bus (the head runs alone). */
        url: z.string().regex(/^(mqtts?|wss?):\/\//, 'an mqtt://, mqtts://, ws:// or wss:// URL').optional(),
        /** A `head` device credential of the hub (`vigil device add <id> --kind head`). */
        username: z.string().max(128).optional(),
        password: z.string().max(1024).optional(),
        /** The role writes over MQTT run as (the broker's ACL decides who may publish them). */
        role: z.enum(ROLES).default('operator'),
        prefix: z.string().regex(/^[a-z0-9_-]+$/).default('vigil'),
      })
      .strict()
      .prefault({}),
    http: z.object({ host: host.default('127.0.0.1'), port: port.default(8081) }).strict().prefault({}),
    rtsp: z
      .object({
        host: host.default('127.0.0.1'),
        port: port.default(8554),
        /** Host name the hub reaches the RTSP server at (default `host`, or the hostname when `host` is 0.0.0.0). */
        advertise_host: host.optional(),
      })
      .strict()
      .prefault({}),
    camera: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('test'), clock: z.boolean().default(true) }).strict(),
        z.object({ kind: z.literal('v4l2'), device: z.string().regex(/^\/dev\//), input_format: z.string().max(32).optional() }).strict(),
        z.object({ kind: z.literal('file'), path: z.string().min(1) }).strict(),
      ])
      .default({ kind: 'test', clock: true }),
    /** The first admin's password (first start only); omitted = a random one, printed once. */
    admin_password: z.string().min(8).max(1024).optional(),
  })
  .strict();
export type HeadConfig = z.infer<typeof headConfigSchema>;

/** A configuration error naming the path. */
export class HeadConfigError extends Error {}

/**
 * Reads and validates the head's config.
 * @param file the YAML file (default `VIGIL_HEAD_CONFIG`, else `./head.yaml`)
 * @param extra values laid over the file (flags), e.g. `{ id: 'head1' }`
 * @throws HeadConfigError with `path: message` lines
 */
export function loadHeadConfig(file?: string, extra: Record<string, unknown> = {}): HeadConfig {
  const path = file ?? process.env.VIGIL_HEAD_CONFIG ?? (existsSync('head.yaml') ? 'head.yaml' : undefined);
  let raw: unknown = {};
  if (path) {
    try {
      raw = YAML.parse(readFileSync(resolve(path), 'utf8')) ?? {};
    } catch (err) {
      throw new HeadConfigError(`${path}: ${(err as Error).message}`);
    }
  }
  const r = headConfigSchema.safeParse({ ...(raw as object), ...extra });
  if (!r.success) throw new HeadConfigError(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('\n'));
  return r.data;
}
