/**
 * The enrolled faces a detector matches against: descriptors by person and image, as
 * received on `vigil/faces/descriptor/<name>/<id>` or computed here.
 */
import { descriptorSimilarity } from './similarity.ts';

/** The best match of a descriptor in the library. */
export interface FaceMatch {
  /** The person whose enrolled image is most similar. */
  name: string;
  /** The enrolled image it matched. */
  id: string;
  /** Similarity to that image, 0–1 ({@link descriptorSimilarity}). */
  score: number;
}

/** Descriptors of enrolled images, by person. */
export class FaceLibrary {
  private readonly entries = new Map<string, { name: string; id: string; descriptor: Float32Array }>();

  /** Number of images with a descriptor. */
  get size(): number { return this.entries.size; }

  /** Adds or replaces the descriptor of image `id` of `name`. */
  set(name: string, id: string, descriptor: ArrayLike<number>): void {
    this.entries.set(`${name}/${id}`, { name, id, descriptor: Float32Array.from(descriptor) });
  }

  /** Removes one image. @returns whether it was there */
  delete(name: string, id: string): boolean { return this.entries.delete(`${name}/${id}`); }

  has(name: string, id: string): boolean { return this.entries.has(`${name}/${id}`); }

  /** Names with at least one descriptor, sorted. */
  names(): string[] { return [...new Set([...this.entries.values()].map((e) => e.name))].sort(); }

  /**
   * The enrolled image most similar to `descriptor` (a person scores as their best image,
   * as human's `match.find` does over a list).
   * @returns the best match, or null when the library is empty
   */
  match(descriptor: ArrayLike<number>): FaceMatch | null {
    let best: FaceMatch | null = null;
    for (const e of this.entries.values()) {
      const score = descriptorSimilarity(descriptor, e.descriptor);
      if (!best || score > best.score) best = { name: e.name, id: e.id, score };
    }
    return best;
  }
}
