/**
 * The pure parts of the camera edit form and the zones editor (no browser): the change set
 * sent as `PATCH` (or the removals that need `PUT`), which input an API error's dotted field
 * belongs to, and the editor's point and error helpers — checked against the real schema and
 * the hub's real error (a zod parse of `components/protocol/camera-config.ts` through
 * `parseCamera`, as `PATCH /api/cameras/:name` does).
 */
import { describe, expect, it } from 'vitest';
import { parseCamera } from '../hub/services/camera-service.ts';
import { changes, getPath, inputFor, setPath } from '../www/src/pages/camera-edit-diff.ts';
import { centre, duplicateNames, errorPlace, freeName, pointAt, withPoint } from '../www/src/pages/zone-editor-shapes.ts';

const base = () => parseCamera({ name: 'yard', paths: { detect: 'rtsp://cam/sub', live: 'rtsp://cam/main' } }) as unknown as Record<string, unknown>;

describe('camera edit: what is sent', () => {
  it('sends only changed keys, deep, and arrays whole', () => {
    const before = base();
    const after = structuredClone(before);
    setPath(after, 'detect.fps', 2);
    setPath(after, 'objects.filters.person.min_score', 0.5);
    setPath(after, 'objects.track', ['person']);
    const { patch, removed } = changes(before, after);
    expect(patch).toEqual({ detect: { fps: 2 }, objects: { track: ['person'], filters: { person: { min_score: 0.5 } } } });
    expect(removed).toEqual([]);
    // The hub's deep merge of that patch gives the draft back (zod fills the filter's defaults).
    const merged = parseCamera({ ...before, detect: { ...(before.detect as object), fps: 2 }, objects: { track: ['person'], filters: { person: { min_score: 0.5 } } } });
    expect(merged.objects.filters.person).toEqual({ min_score: 0.5, threshold: 0.55, min_area: 0, max_area: 24_000_000 });
    expect(changes(before, structuredClone(before))).toEqual({ patch: {}, removed: [] });
  });

  it('reports removals, which PATCH cannot express', () => {
    const before = base();
    const after = structuredClone(before);
    setPath(after, 'paths.live', undefined);
    expect(getPath(after, 'paths.live')).toBeUndefined();
    expect(changes(before, after).removed).toEqual(['paths.live']);
  });

  it('maps the hub’s error fields to the form’s inputs', () => {
    const inputs = ['detect.fps', 'paths.detect', 'paths.live', 'objects.filters.person.min_score', 'objects.track'];
    let field: string | undefined;
    try { parseCamera({ ...base(), detect: { fps: 60 } }); } catch (err) { field = (err as { field?: string }).field; }
    expect(field).toBe('detect.fps');
    expect(inputFor(field, inputs)).toBe('detect.fps');
    expect(inputFor('paths', inputs)).toBe('paths.detect'); // "at least one path slot": the first slot
    expect(inputFor('objects.filters.person.min_score.x', inputs)).toBe('objects.filters.person.min_score');
    expect(inputFor('lpr.known_plates', inputs)).toBeUndefined(); // not in the form: a form error
    expect(inputFor(undefined, inputs)).toBeUndefined();
  });
});

describe('zones editor helpers', () => {
  it('turns pointer positions into normalized points, clamped and rounded', () => {
    const box = { left: 100, top: 50, width: 400, height: 300 };
    expect(pointAt(box, 300, 200)).toEqual([0.5, 0.5]);
    expect(pointAt(box, 80, 400)).toEqual([0, 1]);
    expect(pointAt(box, 100 + 400 / 3, 50)).toEqual([0.3333, 0]);
  });

  it('adds a point halfway along the closing edge; names new shapes', () => {
    expect(withPoint([[0, 0], [1, 0], [1, 1], [0, 1]])).toEqual([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.5]]);
    expect(centre([[0, 0], [1, 0], [1, 1], [0, 1]])).toEqual([0.5, 0.5]);
    expect(freeName('zone', ['zone_1', 'zone_3'])).toBe('zone_2');
    expect(duplicateNames([{ name: 'a' }, { name: 'b' }, { name: 'a' }])).toEqual([2]);
  });

  it('finds the shape and input of the hub’s error', () => {
    let field: string | undefined;
    try { parseCamera({ ...base(), zones: [{ name: 'ok', coordinates: [[0, 0], [1, 0], [1, 1]] }, { name: 'bad', coordinates: [[0, 0], [1, 0]] }] }); } catch (err) { field = (err as { field?: string }).field; }
    expect(field).toBe('zones.1.coordinates');
    expect(errorPlace(field)).toEqual({ kind: 'zones', index: 1, input: 'coordinates' });
    expect(errorPlace('masks.0.coordinates.0.0')).toEqual({ kind: 'masks', index: 0, input: 'coordinates' });
    expect(errorPlace('masks.2')).toEqual({ kind: 'masks', index: 2, input: 'item' });
    expect(errorPlace('detect.fps')).toBeUndefined();
  });
});
