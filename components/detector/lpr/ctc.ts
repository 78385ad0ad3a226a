/**
 * Greedy CTC decoding of PaddleOCR's text recognition output (Graves et al. 2006, best path),
 * as PaddleOCR's `CTCLabelDecode` (`ppocr/postprocess/rec_postprocess.py`) and Frigate's
 * `CTCDecoder` (`frigate/data_processing/common/license_plate/mixin.py`): per time step the
 * most probable class; repeats merged; blanks (class 0) dropped. Classes are
 * `["blank", ...dictionary lines, " "]`.
 */

/** A decoded line: its text, its characters (classes) and each one's probability 0–1. */
export interface Decoded {
  text: string;
  chars: string[];
  probs: number[];
}

/**
 * The class list of a PaddleOCR dictionary file: blank, one class per line, then a space.
 * @param dictText the dictionary file's text (one character per line).
 */
export function ctcClasses(dictText: string): string[] {
  const lines = dictText.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}

/**
 * Decodes a batch of recognition outputs.
 * @param probs softmax output, `[batch, steps, classes]` row-major.
 * @param batch number of lines.
 * @param steps time steps per line.
 * @param classes the class list ({@link ctcClasses}); its length must equal the model's class count.
 * @returns one {@link Decoded} per line.
 * @throws RangeError when the sizes do not match.
 */
export function ctcDecode(probs: Float32Array, batch: number, steps: number, classes: readonly string[]): Decoded[] {
  const n = classes.length;
  if (probs.length !== batch * steps * n) {
    throw new RangeError(`recognition output has ${probs.length} values, expected ${batch}x${steps}x${n}`);
  }
  const out: Decoded[] = [];
  for (let b = 0; b < batch; b++) {
    const chars: string[] = [];
    const charProbs: number[] = [];
    let prev = -1;
    for (let t = 0; t < steps; t++) {
      const base = (b * steps + t) * n;
      let best = 0;
      let bestP = probs[base]!;
      for (let c = 1; c < n; c++) {
        const p = probs[base + c]!;
        if (p > bestP) { bestP = p; best = c; }
      }
      if (best !== 0 && best !== prev) {
        chars.push(classes[best]!);
        charProbs.push(bestP);
      }
      prev = best;
    }
    out.push({ text: chars.join(''), chars, probs: charProbs });
  }
  return out;
}
