import { InvalidInput } from '../core/errors.js';

/**
 * The rule for JSON that arrives over HTTP, whatever the channel (TF Serving bodies, task API bodies, the
 * option fields they carry): its nesting depth is bounded before anything recurses over it. `JSON.parse`
 * itself copes with deep input, but what follows does not: `JSON.stringify` in an error message,
 * `Array.prototype.join`, or any recursive walk would overflow the stack (a 500) on a few hundred kilobytes
 * of `[[[[...`. No request here needs more than a few levels: a tensor of rank 32 in an object of named
 * inputs inside `instances` is under 40.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Throws InvalidInput (400) when `text` nests arrays/objects deeper than `maxDepth`. A linear scan of the
 * text that skips string contents, so it runs before the parser and costs less than it.
 */
export function assertJsonDepth(text: string, maxDepth: number = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) throw new InvalidInput(`JSON is nested deeper than ${maxDepth} levels`);
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
}

/** Parses JSON from a request under the depth bound; 400 when it is not JSON, with `what` naming the input. */
export function parseJsonInput(text: string, what = 'request body'): unknown {
  assertJsonDepth(text);
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInput(`${what} is not valid JSON`);
  }
}

/** A short rendering of a request value for an error message: never the whole of a large or deep value. */
export function previewJson(value: unknown, maxChars = 64): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}...` : text;
}
