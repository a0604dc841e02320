import { InvalidInput } from '../../core/errors.js';
import { assertJsonDepth } from '../jsonInput.js';

/**
 * TF Serving accepts the non-standard tokens `NaN`, `Infinity` and `-Infinity` in request bodies (its
 * "JSON conformance" section), which `JSON.parse` rejects. Only when a body fails to parse do we rewrite
 * those tokens outside strings and parse again, so the common path stays a single native `JSON.parse`.
 * `Infinity` becomes `1e999` (which parses to Infinity); `NaN` becomes this sentinel string, which the
 * tensor adapter turns back into NaN where a number is expected.
 */
export const NAN_SENTINEL = '\u0000NaN';

export function parseTfServingJson(text: string): unknown {
  if (text.length === 0) throw new InvalidInput('JSON Parse error: The document is empty');
  assertJsonDepth(text);
  try {
    return JSON.parse(text);
  } catch (error) {
    const rewritten = rewriteNonFiniteTokens(text);
    if (rewritten !== undefined) {
      try {
        return JSON.parse(rewritten);
      } catch {
        // Report the error of the body as sent, not of the rewritten text.
      }
    }
    throw new InvalidInput(`JSON Parse error: ${(error as Error).message}`);
  }
}

function rewriteNonFiniteTokens(text: string): string | undefined {
  const parts: string[] = [];
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
    } else if (c === 0x4e /* N */ && text.startsWith('NaN', i)) {
      parts.push(text.slice(last, i), JSON.stringify(NAN_SENTINEL));
      i += 'NaN'.length - 1;
      last = i + 1;
    } else if (c === 0x49 /* I */ && text.startsWith('Infinity', i)) {
      parts.push(text.slice(last, i), '1e999');
      i += 'Infinity'.length - 1;
      last = i + 1;
    }
  }
  if (parts.length === 0) return undefined;
  parts.push(text.slice(last));
  return parts.join('');
}
