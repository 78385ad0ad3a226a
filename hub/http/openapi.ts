/** The OpenAPI 3.1 document served at `/api/openapi.json`. Schemas come from the zod schemas. */
import { z } from 'zod';
import { cameraConfig } from '../../components/protocol/camera-config.ts';
import { bundle, display, layout, layoutInput } from '../../components/protocol/layout.ts';
import { pairRequest, pairingStart } from '../../components/protocol/pairing.ts';
import { addCameraInput, discoverInput } from '../onvif/onvif-service.ts';
import { probeInput } from '../onvif/probe.ts';
import { streamProbeInput } from '../services/stream-probe.ts';
import { simpleRule, triggerEvent, triggerInput } from '../../components/protocol/rules.ts';

const err = { $ref: '#/components/schemas/Error' };
const errResp = (d: string) => ({ description: d, content: { 'application/json': { schema: err } } });
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** Builds the document; `version` is the hub's version. */
export function openApiDocument(version: string): object {
  const camera = z.toJSONSchema(cameraConfig, { io: 'input', unrepresentable: 'any' });
  const schema = (t: z.ZodType, io: 'input' | 'output' = 'output') => z.toJSONSchema(t, { io, unrepresentable: 'any' });
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const body = (s: object) => ({ required: true, content: { 'application/json': { schema: s } } });
  const faceEnrolled = { allOf: [ref('FaceImage'), { type: 'object', properties: { name: { type: 'string' } } }] };
  return {
    openapi: '3.1.0',
    info: { title: 'Vigil REST API', version, description: 'See docs/api.md. Errors are `{error: {code, message, field?}}`.' },
    paths: {
      '/api/health': { get: { summary: 'Liveness and readiness', security: [], responses: { 200: json({ type: 'object' }), 503: errResp('not ready') } } },
      '/api/system': { get: { summary: 'Version, uptime and each component’s status (admins: the hub process’s CPU and memory)', responses: { 200: json({ type: 'object' }) } } },
      '/api/system/metrics': { get: {
        summary: 'The last hour of the hub’s CPU % (of one core), RSS and heap bytes, detector inference ms and camera fps, one point per 5 s (viewer+; viewers: their cameras)',
        parameters: [{ name: 'since', in: 'query', schema: { type: 'number' }, description: 'only points after this Unix ms' }],
        responses: { 200: json({ type: 'object', properties: { interval_ms: { type: 'number' }, points: { type: 'array', items: { type: 'object', properties: {
          t: { type: 'number' }, cpu_percent: { type: 'number' }, rss_bytes: { type: 'number' }, heap_bytes: { type: 'number' }, inference_ms: { type: ['number', 'null'] },
          cameras: { type: 'object', additionalProperties: { type: 'object', properties: { fps: { type: 'number' } } } },
        } } } } }), 400: errResp('invalid query') },
      } },
      '/api/system/logs': { get: {
        summary: 'The tail of the hub’s log (last 1000 lines, redacted); poll with after=<next> (admin)',
        parameters: [
          { name: 'level', in: 'query', schema: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] }, description: 'this level and above' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } },
          { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'only lines with a larger seq' },
        ],
        responses: { 200: json({ type: 'object', properties: { next: { type: 'integer' }, lines: { type: 'array', items: { type: 'object', properties: {
          seq: { type: 'integer' }, time: { type: 'number' }, level: { type: 'string' }, msg: { type: 'string' }, module: { type: 'string' }, err: { type: 'string' }, context: { type: 'object' },
        } } } } }), 400: errResp('invalid query'), 403: errResp('not an admin') },
      } },
      '/api/settings': {
        get: { summary: 'Retention, MQTT, Home Assistant and log level settings with their source (default, file, env) and the config file (admin)', responses: { 200: json({ type: 'object' }), 403: errResp('not an admin') } },
        patch: {
          summary: 'Change settings: written into the YAML file (comments kept), applied live where possible; answers restart_required (admin)',
          requestBody: body({ type: 'object', properties: { recordings: { type: 'object' }, mqtt: { type: 'object' }, homeassistant: { type: 'object' }, log: { type: 'object' } }, additionalProperties: false }),
          responses: { 200: json({ type: 'object' }), 400: errResp('invalid value or key (field named)'), 403: errResp('not an admin'), 409: errResp('env_locked (field named), no_config_file, config_file_invalid, config_file_unwritable') },
        },
      },
      '/api/cameras': {
        get: { summary: 'List cameras (credentials never included)', responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/Camera' } }) } },
        post: { summary: 'Create a camera; it starts within 2 s', requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CameraInput' } } } }, responses: { 201: json({ $ref: '#/components/schemas/Camera' }, 'Created'), 400: errResp('invalid body'), 409: errResp('name taken') } },
      },
      '/api/cameras/{name}': {
        parameters: [nameParam],
        get: { summary: 'One camera', responses: { 200: json({ $ref: '#/components/schemas/Camera' }), 404: errResp('unknown camera') } },
        put: { summary: 'Replace a camera (credentials kept unless given)', requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CameraInput' } } } }, responses: { 200: json({ $ref: '#/components/schemas/Camera' }), 400: errResp('invalid body'), 404: errResp('unknown camera') } },
        patch: { summary: 'Deep-merge changes into a camera', requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } }, responses: { 200: json({ $ref: '#/components/schemas/Camera' }), 400: errResp('invalid body'), 404: errResp('unknown camera') } },
        delete: { summary: 'Delete a camera; it stops within 2 s', responses: { 204: { description: 'Deleted' }, 404: errResp('unknown camera') } },
      },
      '/api/cameras/{name}/latest.jpg': { parameters: [nameParam], get: { summary: 'Latest frame (JPEG)', responses: { 200: { description: 'JPEG', content: { 'image/jpeg': {} } }, 404: errResp('no frame yet') } } },
      '/api/events': {
        get: {
          summary: 'Events, newest first; total in X-Total-Count',
          parameters: [
            { name: 'camera', in: 'query', schema: { type: 'string' }, description: 'comma-separated camera names (alias: cameras)' },
            { name: 'label', in: 'query', schema: { type: 'string' }, description: 'comma-separated labels (alias: labels)' },
            { name: 'zone', in: 'query', schema: { type: 'string' }, description: 'an entered zone (alias: zones)' },
            { name: 'after', in: 'query', schema: { type: 'number' }, description: 'start_time ≥ after, Unix seconds' },
            { name: 'before', in: 'query', schema: { type: 'number' }, description: 'start_time < before, Unix seconds' },
            { name: 'in_progress', in: 'query', schema: { type: 'string', enum: ['0', '1'] } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          ],
          responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/Event' } }), 400: errResp('invalid query') },
        },
      },
      '/api/auth/status': { get: { summary: 'Setup needed? Logged in?', security: [], responses: { 200: json({ type: 'object' }) } } },
      '/api/auth/setup': { post: { summary: 'Create the first admin with the one-time setup token', security: [], responses: { 201: json({ type: 'object' }), 403: errResp('wrong token'), 409: errResp('already set up') } } },
      '/api/auth/login': { post: { summary: 'Log in (throttled per IP)', security: [], responses: { 200: json({ type: 'object' }), 401: errResp('invalid credentials or TOTP required'), 429: errResp('too many attempts') } } },
      '/api/auth/refresh': { post: { summary: 'Rotate the refresh token', security: [], responses: { 200: json({ type: 'object' }), 401: errResp('invalid refresh token') } } },
      '/api/auth/logout': { post: { summary: 'Revoke this session', responses: { 204: { description: 'Revoked' } } } },
      '/api/auth/me': { get: { summary: 'The caller', responses: { 200: json({ type: 'object' }), 401: errResp('not authenticated') } } },
      '/api/auth/totp/setup': { post: { summary: 'Start TOTP enrolment', responses: { 200: json({ type: 'object' }) } } },
      '/api/auth/totp/enable': { post: { summary: 'Enable TOTP with a code; returns recovery codes', responses: { 200: json({ type: 'object' }), 400: errResp('wrong code') } } },
      '/api/auth/totp/disable': { post: { summary: 'Disable TOTP (password)', responses: { 204: { description: 'Disabled' } } } },
      '/api/auth/password': { post: {
        summary: 'Change your own password (users); your other sessions end',
        requestBody: body({ type: 'object', required: ['current_password', 'new_password'], properties: { current_password: { type: 'string' }, new_password: { type: 'string', minLength: 8 } } }),
        responses: { 200: json({ type: 'object', properties: { other_sessions_ended: { type: 'integer' } } }), 400: errResp('wrong current password, or a bad new one (field named)'), 429: errResp('too many attempts') },
      } },
      '/api/users': { get: { summary: 'Users (admin)', responses: { 200: json({ type: 'array' }) } }, post: { summary: 'Create a user (admin)', responses: { 201: json({ type: 'object' }), 409: errResp('name taken') } } },
      '/api/users/{id}': { parameters: [idParam], patch: { summary: 'Change role, cameras or password (admin)', responses: { 200: json({ type: 'object' }) } }, delete: { summary: 'Delete a user (admin)', responses: { 204: { description: 'Deleted' } } } },
      '/api/api-keys': { get: { summary: 'API keys (admin)', responses: { 200: json({ type: 'array' }) } }, post: { summary: 'Create an API key; the key is shown once (admin)', responses: { 201: json({ type: 'object' }) } } },
      '/api/api-keys/{id}': { parameters: [idParam], delete: { summary: 'Revoke (admin)', responses: { 204: { description: 'Revoked' } } } },
      '/api/devices': { get: { summary: 'Device credentials (admin)', responses: { 200: json({ type: 'array' }) } }, post: { summary: 'Create a device credential; the password is shown once (admin)', responses: { 201: json({ type: 'object' }) } } },
      '/api/devices/{id}': { parameters: [idParam], delete: { summary: 'Revoke (admin)', responses: { 204: { description: 'Revoked' } } } },
      '/api/media-tokens': { post: { summary: 'A 5-minute token for one camera or one event’s files', responses: { 201: json({ type: 'object' }), 404: errResp('camera or event not visible') } } },
      '/api/activity': { get: { summary: 'Activity log (admin)', responses: { 200: json({ type: 'array' }) } } },
      '/api/cameras/{name}/features': { parameters: [nameParam], post: { summary: 'Switch features, as on …/<feature>/set (operator+)', responses: { 200: json({ type: 'object' }), 400: errResp('bad value') } } },
      '/api/recordings': { get: { summary: 'Recording segments (viewer+), X-Total-Count', parameters: [
        { name: 'camera', in: 'query', schema: { type: 'string' } }, { name: 'after', in: 'query', schema: { type: 'number' } }, { name: 'before', in: 'query', schema: { type: 'number' } },
        { name: 'limit', in: 'query', schema: { type: 'integer' } }, { name: 'offset', in: 'query', schema: { type: 'integer' } }, { name: 'order', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'] } },
      ], responses: { 200: json({ type: 'array' }) } } },
      '/api/recordings/{id}/file': { parameters: [idParam], get: { summary: 'One segment (fragmented MP4), HTTP Range', security: [{ session: [] }, { bearer: [] }, { apiKey: [] }, { mediaToken: [] }], responses: { 200: { description: 'MP4', content: { 'video/mp4': {} } }, 206: { description: 'Partial' }, 404: errResp('unknown') } } },
      '/api/recordings/{id}/segment.ts': { parameters: [idParam], get: { summary: 'The segment remuxed to MPEG-TS (HLS)', security: [{ mediaToken: [] }, { session: [] }], responses: { 200: { description: 'MPEG-TS', content: { 'video/mp2t': {} } } } } },
      '/api/cameras/{name}/recordings.mp4': { parameters: [nameParam], get: { summary: 'A time range as one MP4 (start, end: Unix s), HTTP Range', security: [{ mediaToken: [] }, { session: [] }, { bearer: [] }, { apiKey: [] }], responses: { 200: { description: 'MP4', content: { 'video/mp4': {} } }, 404: errResp('nothing recorded') } } },
      '/api/cameras/{name}/recordings.m3u8': { parameters: [nameParam], get: { summary: 'HLS VOD playlist of a time range', security: [{ mediaToken: [] }, { session: [] }, { bearer: [] }, { apiKey: [] }], responses: { 200: { description: 'M3U8', content: { 'application/vnd.apple.mpegurl': {} } } } } },
      '/api/cameras/{name}/live': { parameters: [nameParam], get: {
        summary: 'Live MSE over WebSocket (Upgrade: websocket): a text {type:"init",codec,mime,stream}, then binary fMP4 — init, the fragments since the last keyframe (GOP cache), then each new one; seek to buffered.end - 0.1 s once appended',
        parameters: [{ name: 'stream', in: 'query', schema: { type: 'string', enum: ['main', 'sub'], default: 'main' }, description: 'main, or sub (the detect URL when it differs from the main live URL; else the main feed)' }],
        security: [{ mediaToken: [] }, { session: [] }, { bearer: [] }, { apiKey: [] }],
        responses: { 101: { description: 'Switching protocols' }, 400: errResp('unknown stream'), 401: errResp('not logged in'), 403: errResp('not allowed'), 404: errResp('no such camera') },
      } },
      '/api/cameras/{name}/live.mjpeg': { parameters: [nameParam], get: { summary: 'Live MJPEG (multipart/x-mixed-replace), main stream only; MSE live is the WebSocket /api/cameras/{name}/live', security: [{ mediaToken: [] }, { session: [] }, { bearer: [] }, { apiKey: [] }], responses: { 200: { description: 'MJPEG stream' } } } },
      '/api/cameras/{name}/live.jpg': { parameters: [nameParam], get: { summary: 'The newest live JPEG', security: [{ mediaToken: [] }, { session: [] }, { bearer: [] }, { apiKey: [] }], responses: { 200: { description: 'JPEG', content: { 'image/jpeg': {} } }, 503: errResp('no frame') } } },
      '/api/exports': { get: { summary: 'Exports and event clips (viewer+)', responses: { 200: json({ type: 'array' }) } }, post: { summary: 'Export {camera, start, end} or {event} (operator+); progress on vigil/recorder/export/<id>', responses: { 202: json({ type: 'object' }, 'Accepted') } } },
      '/api/exports/{id}': { parameters: [idParam], get: { summary: 'One job with progress', responses: { 200: json({ type: 'object' }) } }, delete: { summary: 'Delete (operator+)', responses: { 204: { description: 'Deleted' } } } },
      '/api/exports/{id}/file': { parameters: [idParam], get: { summary: 'The exported MP4, HTTP Range', responses: { 200: { description: 'MP4', content: { 'video/mp4': {} } } } } },
      '/api/events/{id}': {
        parameters: [idParam],
        get: { summary: 'One event', responses: { 200: json({ $ref: '#/components/schemas/Event' }), 404: errResp('unknown event') } },
        delete: { summary: 'Delete an ended event with its snapshot, crop and clip (admin)', responses: { 204: { description: 'deleted' }, 404: errResp('unknown event'), 409: errResp('still in progress') } },
      },
      '/api/events/{id}/snapshot.jpg': { parameters: [idParam, { name: 'crop', in: 'query', schema: { type: 'string', enum: ['0', '1'] } }], get: { summary: 'Best snapshot with the box drawn (crop=1: the object crop)', responses: { 200: { description: 'JPEG', content: { 'image/jpeg': {} } }, 404: errResp('no snapshot') } } },
      '/api/events/{id}/thumbnail.jpg': { parameters: [idParam], get: { summary: 'The object crop', responses: { 200: { description: 'JPEG', content: { 'image/jpeg': {} } }, 404: errResp('no snapshot') } } },
      '/api/layouts': {
        get: { summary: 'Layouts whose cameras the caller sees (viewer+)', responses: { 200: json({ type: 'array', items: ref('Layout') }) } },
        post: { summary: 'Create a layout from regions or a preset with cells (admin)', requestBody: body(ref('LayoutInput')), responses: { 201: json(ref('Layout'), 'Created'), 400: errResp('invalid layout (field named)'), 409: errResp('id taken') } },
      },
      '/api/layouts/{id}': {
        parameters: [idParam],
        get: { summary: 'One layout', responses: { 200: json(ref('Layout')), 404: errResp('unknown') } },
        put: { summary: 'Replace a layout; displays showing it get it at once (admin)', requestBody: body(ref('LayoutInput')), responses: { 200: json(ref('Layout')), 400: errResp('invalid'), 404: errResp('unknown') } },
        delete: { summary: 'Delete a layout (admin)', responses: { 204: { description: 'Deleted' }, 404: errResp('unknown') } },
      },
      '/api/kiosks/pairing': { post: { summary: 'A kiosk asks for a pairing code (no auth; RFC 8628 style)', security: [], requestBody: body(schema(pairingStart, 'input')), responses: { 201: json({ type: 'object', properties: { pairing_id: { type: 'string' }, code: { type: 'string' }, poll_secret: { type: 'string' }, expires_in: { type: 'number' }, interval: { type: 'number' } } }, 'Ticket'), 409: errResp('too many waiting') } } },
      '/api/kiosks/pairing/{id}': { parameters: [idParam, { name: 'X-Pairing-Secret', in: 'header', required: true, schema: { type: 'string' } }], get: { summary: 'The kiosk polls: pending, then once its credential and displays', security: [], responses: { 200: json({ type: 'object' }), 401: errResp('wrong secret'), 404: errResp('expired or collected') } } },
      '/api/kiosks/pair': { post: { summary: 'Pair the kiosk showing a code (admin)', requestBody: body(schema(pairRequest, 'input')), responses: { 201: json(ref('Kiosk'), 'Paired'), 404: errResp('no kiosk shows that code'), 409: errResp('id taken') } } },
      '/api/kiosks': { get: { summary: 'Kiosks with their displays (admin)', responses: { 200: json({ type: 'array', items: ref('Kiosk') }) } } },
      '/api/kiosks/{id}': { parameters: [idParam], get: { summary: 'One kiosk (admin)', responses: { 200: json(ref('Kiosk')), 404: errResp('unknown') } }, delete: { summary: 'Remove a kiosk: credential revoked, displays deleted, retained bundles cleared (admin)', responses: { 204: { description: 'Removed' }, 404: errResp('unknown') } } },
      '/api/kiosks/{id}/displays': { parameters: [idParam], post: { summary: 'Add a display to a kiosk (admin)', requestBody: body({ type: 'object', required: ['id', 'name', 'width', 'height'] }), responses: { 201: json(ref('Display'), 'Created'), 409: errResp('id taken') } } },
      '/api/displays': { get: { summary: 'Displays (viewer+)', responses: { 200: json({ type: 'array', items: ref('Display') }) } } },
      '/api/displays/{id}': { parameters: [idParam], get: { summary: 'One display', responses: { 200: json(ref('Display')), 404: errResp('unknown') } }, patch: { summary: 'Rename or resize (admin)', requestBody: body({ type: 'object' }), responses: { 200: json(ref('Display')) } } },
      '/api/displays/{id}/activate': { parameters: [idParam], post: { summary: 'Activate a layout (id or a whole layout) on a display (operator+); the bundle is published retained on vigil/display/<id>/layout/state', requestBody: body({ type: 'object', required: ['layout'], properties: { layout: { oneOf: [{ type: 'string' }, ref('Layout')] } } }), responses: { 200: json(ref('Bundle'), 'The bundle without stream URLs'), 400: errResp('invalid'), 404: errResp('unknown display or layout') } } },
      '/api/displays/{id}/bundle': { parameters: [idParam], get: { summary: 'The current bundle with fresh media tokens (the display’s kiosk as bearer, or admin)', responses: { 200: json(ref('Bundle')), 404: errResp('unknown, or no layout shown') } } },
      '/api/events/trigger': { post: { summary: 'A synthetic event into the rules engine {camera, topic, property_op?, data? | payload?} (operator+, the camera granted); published normalized on vigil/event/trigger', requestBody: body(schema(triggerInput, 'input')), responses: { 202: json(ref('TriggerEvent'), 'Published'), 400: errResp('invalid, with the field'), 404: errResp('camera not visible') } } },
      '/api/rules': { get: { summary: 'Simple rules (operator+)', responses: { 200: json({ type: 'array', items: ref('Rule') }) } }, post: { summary: 'Create a simple rule; compiled into the Node-RED tab vigil.simple-rules (admin)', requestBody: body(schema(simpleRule, 'input')), responses: { 201: json(ref('Rule'), 'Created'), 400: errResp('invalid, with the field (unknown display or layout too)'), 409: errResp('id taken') } } },
      '/api/rules/{id}': { parameters: [idParam], get: { summary: 'One rule (operator+)', responses: { 200: json(ref('Rule')), 404: errResp('unknown') } }, put: { summary: 'Replace a rule (admin)', requestBody: body(schema(simpleRule, 'input')), responses: { 200: json(ref('Rule')), 400: errResp('invalid'), 404: errResp('unknown') } }, delete: { summary: 'Delete a rule (admin)', responses: { 204: { description: 'Deleted' }, 404: errResp('unknown') } } },
      '/api/rules-status': { get: { summary: 'Whether the rules are deployed to the engine (operator+)', responses: { 200: json({ type: 'object', properties: { deployed: { type: 'boolean' }, synced_at: { type: 'number' }, error: { type: 'string' } } }) } } },
      '/api/onvif/discover': { post: { summary: 'WS-Discovery of ONVIF devices on the hub’s networks, listening timeout_ms (admin)', requestBody: body(schema(discoverInput, 'input')), responses: { 200: json({ type: 'array', items: ref('OnvifDevice') }), 400: errResp('invalid body') } } },
      '/api/onvif/probe': { post: { summary: 'Log in to an ONVIF device and read it: information, capabilities, profiles with stream URIs, the suggested camera config; credentials never echoed (admin)', requestBody: body(schema(probeInput, 'input')), responses: { 200: json(ref('OnvifProbe')), 400: errResp('invalid body; field password: the device refused the login; field url: no ONVIF device answered there') } } },
      '/api/faces': { get: { summary: 'Enrolled face images by person, names sorted (viewer+)', responses: { 200: json({ type: 'object', additionalProperties: { type: 'array', items: ref('FaceImage') } }) } } },
      '/api/faces/{name}': {
        parameters: [{ ...nameParam, description: 'a lower-case slug (a-z, 0-9, _ and -), not "unknown"' }],
        post: {
          summary: 'Enrol an image of a person (admin): stored, published on vigil/faces/library/<name>/<id>, described by a detector with face recognition on',
          requestBody: { required: true, content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } }, 'image/png': { schema: { type: 'string', format: 'binary' } }, 'image/webp': { schema: { type: 'string', format: 'binary' } }, 'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } } } },
          responses: { 201: json(faceEnrolled, 'A detector found a face in it'), 202: json(faceEnrolled, 'No detector answered within 5 s; kept, ok: null'), 400: errResp('field name (not a slug), image (invalid_image, or no_face: no face found, not kept), file (multipart)'), 413: errResp('larger than 10 MiB') },
        },
        delete: { summary: 'Remove a person and every image of them (admin)', responses: { 204: { description: 'Removed' }, 404: errResp('unknown name') } },
      },
      '/api/faces/{name}/{id}.jpg': { parameters: [nameParam, idParam], get: { summary: 'One enrolled image (viewer+)', responses: { 200: { description: 'JPEG', content: { 'image/jpeg': {} } }, 404: errResp('unknown') } } },
      '/api/faces/{name}/{id}': { parameters: [nameParam, idParam], delete: { summary: 'Remove one enrolled image (admin); its retained topics are cleared', responses: { 204: { description: 'Removed' }, 404: errResp('unknown') } } },
      '/api/faces/unknown': { get: { summary: 'Faces the detectors could not name, newest first, of the cameras the caller sees (viewer+)', responses: { 200: json({ type: 'array', items: ref('UnknownFace') }) } } },
      '/api/faces/unknown/{id}.jpg': { parameters: [idParam], get: { summary: 'An unknown face crop (viewer+, its camera granted)', responses: { 200: { description: 'JPEG', content: { 'image/jpeg': {} } }, 404: errResp('unknown, or camera not visible') } } },
      '/api/faces/unknown/{id}/enrol': { parameters: [idParam], post: { summary: 'Enrol an unknown face under a name (admin); it leaves the unknown list unless no face is found in it', requestBody: body({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }), responses: { 201: json(faceEnrolled, 'Described'), 202: json(faceEnrolled, 'No detector answered in time'), 400: errResp('field name, or image no_face'), 404: errResp('unknown, or camera not visible') } } },
      '/api/faces/unknown/{id}': { parameters: [idParam], delete: { summary: 'Remove an unknown face (admin)', responses: { 204: { description: 'Removed' }, 404: errResp('unknown, or camera not visible') } } },
      '/api/cameras/probe': { post: { summary: 'Connection test of a stream URL (rtsp://, rtsps://, file:// in the allowed roots; inline credentials moved out) with ffprobe, RTSP over TCP, within timeout_ms (1000–30 000, default 10 000); nothing is stored (admin)', requestBody: body(schema(streamProbeInput, 'input')), responses: { 200: json(ref('StreamProbe')), 400: errResp('validation_failed: field url (bad URL) or the body; probe_failed: field url (unreachable, not a stream, timed out; ffprobe’s message) or field password (the RTSP server answered 401)') } } },
      '/api/cameras/onvif': { post: { summary: 'Create a camera from an ONVIF device: record/live = its highest-resolution profile, detect = its lowest, the onvif block set; other camera fields in the body win (admin)', requestBody: body(schema(addCameraInput, 'input')), responses: { 201: json(ref('Camera'), 'Created'), 400: errResp('as /api/onvif/probe, or an invalid camera field'), 409: errResp('name taken') } } },
    },
    security: [{ session: [] }, { bearer: [] }, { apiKey: [] }],
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'vigil_session', description: 'Cookie session; writes also need X-CSRF-Token = the vigil_csrf cookie' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        mediaToken: { type: 'apiKey', in: 'query', name: 'token', description: '5-minute media token (media routes only)' },
      },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } } },
        CameraInput: camera,
        Layout: schema(layout),
        LayoutInput: schema(layoutInput, 'input'),
        Display: schema(display),
        Kiosk: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, created_at: { type: 'number' }, displays: { type: 'array', items: ref('Display') } } },
        Bundle: schema(bundle),
        Rule: schema(simpleRule),
        TriggerEvent: schema(triggerEvent),
        FaceImage: {
          type: 'object', required: ['id', 'ok', 'created', 'bytes'],
          properties: {
            id: { type: 'string' }, ok: { type: ['boolean', 'null'], description: 'a detector found a face (true), found none or could not read it (false), or none answered yet (null)' },
            face_score: { type: 'number', description: 'face detector score, 0–1' }, error: { type: 'string', enum: ['no_face', 'invalid_image', 'failed'] },
            detector: { type: 'string', description: 'the detector that answered' }, created: { type: 'number', description: 'Unix s' }, bytes: { type: 'integer' },
          },
        },
        UnknownFace: { type: 'object', properties: { id: { type: 'string', description: '<Unix ms>-<8 hex>' }, camera: { type: 'string' }, time: { type: 'number', description: 'seen at, Unix s' }, bytes: { type: 'integer' } } },
        Camera: { allOf: [{ $ref: '#/components/schemas/CameraInput' }], description: 'As CameraInput, without username/password, plus has_credentials' },
        StreamProbe: {
          type: 'object', description: 'What ffprobe found; credentials never included',
          properties: {
            url: { type: 'string', description: 'the URL probed, credentials removed' }, format: { type: ['string', 'null'], description: 'ffprobe format_name (rtsp, avi …)' },
            streams: { type: 'array', items: { type: 'object', properties: {
              index: { type: 'integer' }, type: { type: 'string', enum: ['video', 'audio'] }, codec: { type: ['string', 'null'] }, profile: { type: ['string', 'null'] },
              width: { type: ['integer', 'null'] }, height: { type: ['integer', 'null'] }, fps: { type: ['number', 'null'], description: 'from avg_frame_rate, else r_frame_rate' },
              pix_fmt: { type: ['string', 'null'], description: 'video only' }, sample_rate: { type: ['integer', 'null'], description: 'audio only, Hz' }, channels: { type: ['integer', 'null'], description: 'audio only' },
            } } },
          },
        },
        OnvifDevice: {
          type: 'object', description: 'A device that answered a WS-Discovery probe',
          properties: { xaddr: { type: 'string', description: 'device service URL' }, xaddrs: { type: 'array', items: { type: 'string' } }, urn: { type: 'string' }, name: { type: ['string', 'null'] }, hardware: { type: ['string', 'null'] }, location: { type: ['string', 'null'] }, address: { type: 'string' } },
        },
        OnvifProbe: {
          type: 'object',
          properties: {
            url: { type: 'string' },
            device: { type: 'object', properties: { manufacturer: { type: 'string' }, model: { type: 'string' }, firmware_version: { type: 'string' }, serial_number: { type: 'string' }, hardware_id: { type: 'string' } } },
            capabilities: { type: 'object', properties: { events: { type: 'boolean' }, ptz: { type: 'boolean' }, relays: { type: 'integer' } } },
            relays: { type: 'array', items: { type: 'object', properties: { token: { type: 'string' }, mode: { type: ['string', 'null'] }, idle_state: { type: ['string', 'null'] } } } },
            profiles: { type: 'array', items: { type: 'object', properties: { token: { type: 'string' }, name: { type: 'string' }, encoding: { type: ['string', 'null'] }, width: { type: ['integer', 'null'] }, height: { type: ['integer', 'null'] }, fps: { type: ['number', 'null'] }, ptz: { type: 'boolean' }, stream_uri: { type: ['string', 'null'], description: 'RTSP, credentials removed' } } } },
            snapshot_uri: { type: ['string', 'null'] },
            suggested: { type: 'object', description: 'paths (record/live: highest resolution, detect: lowest) and onvif.url', properties: { paths: { type: 'object' }, onvif: { type: 'object' } } },
          },
        },
        Event: {
          type: 'object',
          properties: {
            id: { type: 'string' }, camera: { type: 'string' }, label: { type: 'string' }, sub_label: { type: ['string', 'null'] },
            score: { type: 'number' }, top_score: { type: 'number' }, box: { type: 'array', items: { type: 'number' }, description: '[x1, y1, x2, y2] px of the detect frame' },
            area: { type: 'number' }, zones: { type: 'array', items: { type: 'string' } }, start_time: { type: 'number' }, end_time: { type: ['number', 'null'] },
            has_snapshot: { type: 'boolean' }, false_positive: { type: 'boolean' }, data: { type: 'object' },
          },
        },
      },
    },
  };
}
