/**
 * Greedy CTC decoding as PaddleOCR's CTCLabelDecode does it: the best class per time step, repeats collapsed,
 * the blank (class 0) dropped; the confidence is the mean probability of the characters kept.
 *
 * Class order of PP-OCR recognition models: 0 the CTC blank, then the dictionary file's lines in order, then
 * a space (use_space_char). The pool entry's `labels` carry exactly that list, with `''` for the blank.
 *
 * Two corrections for Latin text, which the Chinese/English model under-serves:
 * - Spaces. The model often lets the blank win over the space between words. Between two characters, the
 *   space class's highest probability tells words apart: on lines rendered in eight Debian fonts at 16-36 px,
 *   it stayed below 0.003 inside words (2175 gaps) and above 0.007 between words (388 gaps), so a space is
 *   inserted from `spaceThreshold` (0.005) on. Never next to a CJK character, where no spaces are written.
 * - Full-width punctuation (`，` `：`) between Latin letters or digits becomes its ASCII form (NFKC).
 */
export interface DecodedText {
  text: string;
  /** Mean probability of the emitted characters; 0 when none was emitted. */
  confidence: number;
}

export const defaultSpaceThreshold = 0.005;

/** CJK ideographs, kana, Hangul and full-width forms: scripts written without spaces between words. */
const noSpaceScript = /[\u2E80-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF\uFF00-\uFFEF]/u;
const fullWidth = /[\uFF01-\uFF5E\u3000]/u;
const latin = /[A-Za-z0-9]/;

/** Decodes row `row` of scores shaped [rows, steps, classes] (softmax probabilities). */
export function ctcGreedyDecode(
  scores: Float32Array,
  steps: number,
  classes: number,
  labels: readonly string[],
  row: number,
  spaceThreshold = defaultSpaceThreshold,
): DecodedText {
  const space = labels[classes - 1] === ' ' ? classes - 1 : -1;
  const chars: string[] = [];
  let sum = 0;
  let emitted = 0;
  let previous = -1;
  // Highest space probability since the last character emitted.
  let spaceSince = 0;
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
      const char = labels[best] ?? '';
      if (best !== space && chars.length > 0 && chars[chars.length - 1] !== ' ' && spaceSince >= spaceThreshold) {
        const before = chars[chars.length - 1];
        if (!noSpaceScript.test(before) && !noSpaceScript.test(char)) chars.push(' ');
      }
      chars.push(char);
      sum += bestScore;
      emitted++;
      spaceSince = 0;
    } else if (space >= 0) {
      spaceSince = Math.max(spaceSince, scores[o + space]);
    }
    previous = best;
  }
  return { text: latinPunctuation(chars).join(''), confidence: emitted > 0 ? sum / emitted : 0 };
}

/** Full-width punctuation whose neighbours are Latin letters or digits, in its ASCII form. */
function latinPunctuation(chars: string[]): string[] {
  return chars.map((c, i) => {
    if (!fullWidth.test(c)) return c;
    const near = (j: number): boolean => j >= 0 && j < chars.length && (latin.test(chars[j]) || chars[j] === ' ');
    return near(i - 1) || near(i + 1) ? c.normalize('NFKC') : c;
  });
}
