/**
 * Greedy CTC decoding as PaddleOCR's CTCLabelDecode does it: the best class per time step, repeats collapsed,
 * the blank (class 0) dropped; the confidence is the mean probability of the characters kept.
 *
 * Class order of PP-OCR recognition models: 0 the CTC blank, then the dictionary file's lines in order, then
 * a space (use_space_char). The pool entry's `labels` carry exactly that list, with `''` for the blank.
 */
export interface DecodedText {
  text: string;
  /** Mean probability of the emitted characters; 0 when none was emitted. */
  confidence: number;
}

/** Decodes row `row` of scores shaped [rows, steps, classes] (softmax probabilities). */
export function ctcGreedyDecode(scores: Float32Array, steps: number, classes: number, labels: readonly string[], row: number): DecodedText {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  const base = row * steps * classes;
  for (let t = 0; t < steps; t++) {
    const o = base + t * classes;
    let best = 0;
    let bestScore = scores[o];
    for (let c = 1; c < classes; c++) {
      const s = scores[o + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += labels[best] ?? '';
      sum += bestScore;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept > 0 ? sum / kept : 0 };
}
