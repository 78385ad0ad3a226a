/**
 * One onnxruntime `InferenceSession` of the converted CenterNet plus its pre- and
 * post-processing, on the calling thread.
 *
 * Note: onnxruntime-node's `session.run()` returns a promise but the native run is
 * synchronous: it executes on the JS thread inside a `setImmediate` callback
 * (`onnxruntime-node/dist/backend.js`), blocking that thread's event loop for the whole
 * inference (intra-op worker threads only help *within* it). So call this from a worker
 * thread — `onnx-model.ts` does, by default — never on a thread that serves I/O.
 * Calls are serialized per runner (the input buffer is reused).
 */
import ort from 'onnxruntime-node';
import type { RawDetection } from '../types.ts';
import { decodeCenternet, type CenternetDecodeOptions } from './centernet-decode.ts';
import { CENTERNET_CLASSES, CENTERNET_STRIDE } from './convert-centernet.ts';
import { checkFrame, checkInputSize, modelInputDims } from './frame-checks.ts';
import { resizeRgbToPlanar } from './resize-bilinear.ts';

/** Options of {@link CenternetRunner.create}. */
export interface CenternetRunnerOptions {
  /** The converted model: a `.onnx` path or its bytes. */
  model: string | Uint8Array;
  /** onnxruntime intra-op threads (1 = run on the calling thread only); default 1. */
  threads?: number;
}

/** Decoding options plus how the frame is fitted to the model's input. */
export interface CenternetRunOptions extends CenternetDecodeOptions {
  /**
   * Keep the frame's aspect ratio: `inputSize` is the long side and the short side is
   * scaled alike, rounded to a multiple of 32 (a 640×480 frame at 512 → 512×384: measured
   * on vtest.avi, the same people as 512×512 at 72 % of the time); default false: stretched
   * to `inputSize`² as human does.
   */
  keepAspect?: boolean;
}

/** Time spent in one {@link CenternetRunner.detect}, ms. */
export interface RunnerTimings {
  resizeMs: number;
  inferenceMs: number;
  decodeMs: number;
}

/** The converted CenterNet on onnxruntime (CPU execution provider). */
export class CenternetRunner {
  private readonly inputs = new Map<string, Float32Array>();
  private chain: Promise<unknown> = Promise.resolve();
  private released = false;

  private constructor(private readonly session: ort.InferenceSession) {}

  /**
   * Creates the session (graph optimisations on, sequential execution, one inter-op thread).
   * @throws Error if onnxruntime cannot load the model, or `threads` is not a positive integer.
   */
  static async create(opts: CenternetRunnerOptions): Promise<CenternetRunner> {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // No busy-waiting of idle intra-op threads between runs: on a small box it burned
      // ≥ 11 % of the hub's CPU (perf: a `pause` loop in libonnxruntime), for ~no latency.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    const session =
      typeof opts.model === 'string' ? await ort.InferenceSession.create(opts.model, options) : await ort.InferenceSession.create(opts.model, options);
    for (const name of ['images']) if (!session.inputNames.includes(name)) throw new Error(`model has no input '${name}'`);
    for (const name of ['peaks', 'wh']) if (!session.outputNames.includes(name)) throw new Error(`model has no output '${name}'`);
    return new CenternetRunner(session);
  }

  /**
   * Detects objects in one frame: resizes it to `inputSize`² (TF bilinear, like human), runs
   * the model, decodes as human does.
   * @param rgb packed RGB24, `width * height * 3` bytes.
   * @returns detections (COCO labels, scores 0–1 with 2 decimals, boxes in integer px of the
   *   frame) and timings.
   * @throws RangeError on a bad frame or input size; Error if the runner was released or
   *   onnxruntime fails.
   */
  detect(
    rgb: Uint8Array,
    width: number,
    height: number,
    inputSize: number,
    decode: CenternetRunOptions,
  ): Promise<{ detections: RawDetection[]; timings: RunnerTimings }> {
    try {
      checkFrame(rgb, width, height);
      checkInputSize(inputSize);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.chain.then(() => this.run(rgb, width, height, inputSize, decode));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(rgb: Uint8Array, width: number, height: number, inputSize: number, decode: CenternetRunOptions) {
    if (this.released) throw new Error('CenterNet ONNX session is released');
    const t0 = performance.now();
    const [iw, ih] = modelInputDims(width, height, inputSize, decode.keepAspect);
    const key = `${iw}x${ih}`;
    let input = this.inputs.get(key);
    if (!input) {
      input = new Float32Array(3 * iw * ih);
      this.inputs.set(key, input);
    }
    resizeRgbToPlanar(rgb, width, height, iw, ih, input);
    const t1 = performance.now();
    const out = await this.session.run({ images: new ort.Tensor('float32', input, [1, 3, ih, iw]) });
    const t2 = performance.now();
    const peaks = out['peaks'];
    const wh = out['wh'];
    try {
      if (!peaks || !wh) throw new Error('model returned no peaks/wh output');
      if (peaks.dims[1] !== CENTERNET_CLASSES) throw new Error(`model has ${peaks.dims[1]} classes, expected ${CENTERNET_CLASSES}`);
      const detections = decodeCenternet(
        {
          peaks: peaks.data as Float32Array,
          wh: wh.data as Float32Array,
          gridW: iw / CENTERNET_STRIDE,
          gridH: ih / CENTERNET_STRIDE,
          inputW: iw,
          inputH: ih,
          stride: CENTERNET_STRIDE,
          frameW: width,
          frameH: height,
        },
        decode,
      );
      return { detections, timings: { resizeMs: t1 - t0, inferenceMs: t2 - t1, decodeMs: performance.now() - t2 } };
    } finally {
      peaks?.dispose();
      wh?.dispose();
    }
  }

  /** Releases the session once pending calls are done; later calls reject. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    await this.chain;
    if (this.released) return;
    this.released = true;
    this.inputs.clear();
    await this.session.release();
  }
}
