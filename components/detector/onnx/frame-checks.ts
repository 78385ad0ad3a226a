/**
 * Argument checks shared by the ONNX CenterNet's loader, worker and runner (kept free of
 * onnxruntime and protobuf imports so the loader's thread does not load them).
 */

/** Input sizes must be multiples of this, px (five stride-2 stages; `convert-centernet.ts`). */
export const CENTERNET_SIZE_MULTIPLE = 32;

/** Smallest and largest accepted model input side, px. */
export const MIN_INPUT_SIZE = 64;
export const MAX_INPUT_SIZE = 1024;

/**
 * Checks a model input side.
 * @throws RangeError unless it is an integer multiple of 32 within 64–1024 px.
 */
export function checkInputSize(inputSize: number): void {
  if (!Number.isInteger(inputSize) || inputSize % CENTERNET_SIZE_MULTIPLE !== 0 || inputSize < MIN_INPUT_SIZE || inputSize > MAX_INPUT_SIZE) {
    throw new RangeError(`inputSize must be a multiple of ${CENTERNET_SIZE_MULTIPLE} within ${MIN_INPUT_SIZE}–${MAX_INPUT_SIZE} px, got ${inputSize}`);
  }
}

/** Checks a frame and its RGB24 buffer. @throws RangeError with the expected size. */
export function checkFrame(rgb: Uint8Array, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`invalid frame size ${width}x${height}`);
  }
  if (!(rgb instanceof Uint8Array)) throw new TypeError('frame must be a Buffer/Uint8Array of packed RGB24');
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`RGB buffer is ${rgb.length} bytes, expected ${width * height * 3} for ${width}x${height}x3`);
  }
}

/**
 * The model input (width, height) in px for a `width`×`height` frame at `inputSize` (see
 * `CenternetRunOptions.keepAspect` in `centernet-runner.ts`).
 */
export function modelInputDims(width: number, height: number, inputSize: number, keepAspect = false): [number, number] {
  if (!keepAspect) return [inputSize, inputSize];
  const short = Math.max(CENTERNET_SIZE_MULTIPLE, Math.round((inputSize * Math.min(width, height)) / Math.max(width, height) / CENTERNET_SIZE_MULTIPLE) * CENTERNET_SIZE_MULTIPLE);
  return width >= height ? [inputSize, short] : [short, inputSize];
}
