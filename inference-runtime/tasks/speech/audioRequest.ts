import type { Context } from 'koa';
import { InvalidInput, UnsupportedMediaType } from '../../core/errors.js';
import { readBody } from '../../http/requestBody.js';
import type { GrammarRequest } from '../../speech/grammar.js';
import { b64Member, isJsonMediaType, jsonObject, parseJsonBody } from '../common/jsonBody.js';
import type { OptionReader } from '../common/optionReader.js';

/** Media types of a WAV body (browsers, curl and the RFC 2361 registrations name it differently). */
export const WAV_MEDIA_TYPES = ['audio/wav', 'audio/wave', 'audio/x-wav', 'audio/vnd.wave'];

/** The audio of a request and the option fields that came with it in a JSON body. */
export interface AudioRequest {
  bytes: Buffer;
  fields: Record<string, unknown>;
}

/** Phrases a query may list; a longer list goes in a JSON body. */
const MAX_QUERY_PHRASES = 200;

/**
 * What constrains recognition, from the request's options (`grammar`, `phrases`, `mode`: JSON body fields, or
 * query parameters, `phrases` repeated or `|`-separated there).
 */
export function grammarRequest(options: OptionReader): GrammarRequest {
  const out: GrammarRequest = {};
  const grammar = options.text('grammar');
  const phrases = options.list('phrases', MAX_QUERY_PHRASES);
  const mode = options.choice('mode', ['dictation', 'grammar']);
  if (grammar !== undefined) out.grammar = grammar;
  if (phrases !== undefined) out.phrases = phrases;
  if (mode !== undefined) out.dictation = mode === 'dictation';
  if ([out.grammar !== undefined, out.phrases !== undefined, out.dictation === true].filter(Boolean).length > 1) {
    throw new InvalidInput('give one of grammar, phrases or mode=dictation');
  }
  return out;
}

/**
 * The audio of a request: a WAV body (`audio/wav` and its aliases), or JSON `{"audio": {"b64": ...}, ...options}`,
 * within `maxBytes` (413) and the deadline.
 */
export async function readAudioRequest(ctx: Context, maxBytes: number, signal?: AbortSignal): Promise<AudioRequest> {
  const type = ctx.request.type.toLowerCase();
  if (WAV_MEDIA_TYPES.includes(type)) return { bytes: await readBody(ctx.req, { maxBytes, signal }), fields: {} };
  if (isJsonMediaType(type)) {
    const { audio, ...fields } = jsonObject(parseJsonBody(await readBody(ctx.req, { maxBytes, signal })), '{"audio": {"b64": "..."}}');
    return { bytes: b64Member(audio, 'audio', 'base64 of a WAV file'), fields };
  }
  throw new UnsupportedMediaType(
    `Content-Type ${type || '(none)'} is not accepted: send a WAV file as ${WAV_MEDIA_TYPES.join(', ')}, or JSON {"audio": {"b64": ...}}`,
  );
}
