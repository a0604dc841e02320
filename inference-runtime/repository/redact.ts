/**
 * The one place where a model source URL is made safe to show. Presigned URLs carry their signature and
 * token in the query string, and `https://user:password@host/` carries a password: neither may reach a
 * status page, a log line or an error message. What stays (scheme, host, port, path) is what an operator
 * needs to tell which file failed.
 */

const MASK = '***';

/** `https://user:pw@host:1/a/b.json?sig=x#f` -> `https://***@host:1/a/b.json?***`. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return redactUnparsed(String(url));
  }
  const hadUserInfo = parsed.username !== '' || parsed.password !== '';
  const hadQuery = parsed.search !== '';
  // Nothing to hide: keep the text as written (the parser would add a trailing slash to a bare origin).
  if (!hadUserInfo && !hadQuery && parsed.hash === '') return typeof url === 'string' ? url : url.href;
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  let text = parsed.href;
  if (hadUserInfo) text = text.replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, `$1${MASK}@`);
  if (hadQuery) text += `?${MASK}`;
  return text;
}

/**
 * A URL the WHATWG parser refuses can still hold a secret (a typo in a pool file): cut user-info and
 * everything from the first `?` or `#` by hand.
 */
function redactUnparsed(text: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(text);
  let head = text;
  let rest = '';
  if (scheme) {
    const [, prefix, authority, tail] = scheme;
    const at = authority!.lastIndexOf('@');
    head = prefix! + (at >= 0 ? `${MASK}@${authority!.slice(at + 1)}` : authority!);
    rest = tail!;
  }
  const cut = rest.search(/[?#]/);
  if (cut >= 0) return `${head}${rest.slice(0, cut)}${rest[cut] === '?' ? `?${MASK}` : ''}`;
  if (!scheme) {
    const bare = text.search(/[?#]/);
    return bare >= 0 ? `${text.slice(0, bare)}?${MASK}` : text;
  }
  return head + rest;
}

/**
 * Anything that looks like a URL (`scheme://...` up to whitespace or a quote) redacted inside free text:
 * error messages from fetch, from the URL parser, from our own code. Idempotent.
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, (match) => {
    // A URL quoted in prose often ends with punctuation that is not part of it.
    const trail = /[),.;:\]]+$/.exec(match)?.[0] ?? '';
    const url = trail ? match.slice(0, -trail.length) : match;
    return redactUrl(url) + trail;
  });
}
