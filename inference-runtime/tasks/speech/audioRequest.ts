import type { Context } from 'koa';
import { InvalidInput, UnsupportedMediaType } from '../../core/errors.js';
import { parseJsonInput } from '../../http/jsonInput.js';
import { readBody } from '../../http/requestBody.js';
import type { GrammarRequest } from '../../speech/grammar.js';

/** Media types of a WAV body (browsers, curl and the RFC 2361 registrations name it differently). */
export const WAV_MEDIA_TYPES = ['audio/wav', 'audio/wave', 'audio/x-wav', 'audio/vnd.wave'];

export interface AudioRequest extends GrammarRequest {
  bytes: Buffer;
}

const MAX_QUERY_PHRASES = 200;

function queryList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const values = Array.isArray(value) ? value : [value];
  const out = values.flatMap((v) => v.split('|')).map((v) => v.trim()).filter(Boolean);
  if (out.length > MAX_QUERY_PHRASES) throw new InvalidInput(`at most ${MAX_QUERY_PHRASES} phrases fit in the query; send more in a JSON body`);
  return out;
}

function grammarFields(source: Record<string, unknown>, where: string): GrammarRequest {
  const out: GrammarRequest = {};
  const { grammar, phrases, mode } = source;
  if (grammar !== undefined) {
    if (typeof grammar !== 'string') throw new InvalidInput(`${where} grammar must be JSGF text`);
    out.grammar = grammar;
  }
  if (phrases !== undefined) {
    if (!Array.isArray(phrases) || phrases.some((p) => typeof p !== 'string')) throw new InvalidInput(`${where} phrases must be a list of strings`);
    out.phrases = phrases as string[];
  }
  if (mode !== undefined) {
    if (mode !== 'dictation' && mode !== 'grammar') throw new InvalidInput(`${where} mode must be dictation or grammar`);
    out.dictation = mode === 'dictation';
  }
  if ([out.grammar !== undefined, out.phrases !== undefined, out.dictation === true].filter(Boolean).length > 1) {
    throw new InvalidInput('give one of grammar, phrases or mode=dictation');
  }
  return out;
}

/**
 * The audio of a request: a WAV body (`audio/wav` and its aliases), or JSON `{"audio": {"b64": ...},
 * "grammar"?, "phrases"?, "mode"?}`. Query parameters `grammar`, `phrases` (repeated or `|`-separated) and
 * `mode=dictation` apply to a WAV body.
 */
export async function readAudioRequest(ctx: Context, maxBodyBytes: number): Promise<AudioRequest> {
  const type = ctx.request.type.toLowerCase();
  const signal = ctx.state.deadline as AbortSignal | undefined;
  if (WAV_MEDIA_TYPES.includes(type)) {
    const bytes = await readBody(ctx.req, { maxBytes: maxBodyBytes, signal });
    const q = ctx.query;
    const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
    return { bytes, ...grammarFields({ grammar: one(q.grammar), phrases: queryList(q.phrases), mode: one(q.mode) }, 'query') };
  }
  if (type === 'application/json') {
    const body = await readBody(ctx.req, { maxBytes: maxBodyBytes, signal });
    const value = parseJsonInput(body.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInput('the JSON body must be an object with an audio field');
    const record = value as Record<string, unknown>;
    const audio = record.audio as { b64?: unknown } | undefined;
    if (typeof audio !== 'object' || audio === null || typeof audio.b64 !== 'string') {
      throw new InvalidInput('the JSON body needs "audio": {"b64": "<base64 of a WAV file>"}');
    }
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(audio.b64)) throw new InvalidInput('audio.b64 is not base64');
    return { bytes: Buffer.from(audio.b64, 'base64'), ...grammarFields(record, 'body') };
  }
  throw new UnsupportedMediaType(
    `Content-Type ${type || '(none)'} is not accepted: send a WAV file as ${WAV_MEDIA_TYPES.join(', ')}, or JSON {"audio": {"b64": ...}}`,
  );
}
