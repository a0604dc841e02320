import type { Context } from 'koa';
import { InvalidInput } from '../../core/errors.js';
import type { GrammarRequest } from '../../speech/grammar.js';
import { readMediaRequest, type MediaForm, type MediaRequest } from '../common/mediaRequest.js';
import type { OptionReader } from '../common/optionReader.js';
import type { CancelSignal } from '../../core/cancelSignal.js';

/** Media types of a WAV body (browsers, curl and the RFC 2361 registrations name it differently). */
export const WAV_MEDIA_TYPES = ['audio/wav', 'audio/wave', 'audio/x-wav', 'audio/vnd.wave'];

/** The audio of a request and the option fields that came with it in a JSON body. */
export type AudioRequest = MediaRequest;

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

/** Audio comes as a WAV body, or JSON `{"audio": {"b64": "..."}, ...options}`. */
export const AUDIO_FORM: MediaForm = { field: 'audio', rawTypes: WAV_MEDIA_TYPES, multipart: false, noun: 'a WAV file' };

/** Reads the audio of a request, the whole body bounded by `maxBytes` (413). */
export function readAudioRequest(ctx: Context, maxBytes: number, signal?: CancelSignal): Promise<AudioRequest> {
  return readMediaRequest(ctx, AUDIO_FORM, maxBytes, signal);
}
