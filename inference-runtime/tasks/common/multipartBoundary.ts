import { InvalidInput } from '../../core/errors.js';

/**
 * RFC 2046 section 5.1.1: a boundary is 1 to 70 characters from `bchars` and does not end with a space. An
 * empty boundary makes every `\r\n--` in the body a delimiter (a part ends wherever its bytes happen to hold
 * one), and a repeated parameter leaves which boundary holds to the parser: both are refused before parsing.
 */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** `name=value` parameters of a Content-Type, values quoted (with backslash escapes) or not. */
const PARAMETER = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;

/** The boundary of a `multipart/form-data` Content-Type, or a 400 saying what is wrong with it. */
export function multipartBoundary(contentType: string): string {
  const values: string[] = [];
  for (const [, name, raw] of contentType.matchAll(PARAMETER)) {
    if (name.toLowerCase() !== 'boundary') continue;
    const value = raw.trim();
    values.push(value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value);
  }
  if (values.length === 0) throw new InvalidInput('multipart/form-data needs a boundary parameter in its Content-Type');
  if (values.length > 1) throw new InvalidInput('multipart/form-data has more than one boundary parameter in its Content-Type');
  if (!BOUNDARY.test(values[0])) {
    throw new InvalidInput("multipart boundary must be 1 to 70 characters of letters, digits and '()+_,-./:=? (RFC 2046), not ending with a space");
  }
  return values[0];
}
