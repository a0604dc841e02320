import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidInput } from '../../../../../inference-runtime/core/errors.js';
import { b64Member, jsonObject, parseJsonBody } from '../../../../../inference-runtime/tasks/common/jsonBody.js';

/** The error `run` throws, or undefined. */
function thrown(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('task request JSON bodies (one reader for image, audio and text routes)', () => {
  it('gives back the bytes of a b64 member in every form a client sends: standard, URL-safe, wrapped, a data URL', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('standard', 'url-safe', 'wrapped', 'data URL'), (bytes, form) => {
        const buffer = Buffer.from(bytes);
        const b64 =
          form === 'url-safe'
            ? buffer.toString('base64url')
            : form === 'wrapped'
              ? (buffer.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')
              : form === 'data URL'
                ? `data:audio/wav;base64,${buffer.toString('base64')}`
                : buffer.toString('base64');
        expect(b64Member({ b64 }, 'audio', 'a WAV file').equals(buffer)).to.equal(true);
      }),
    );
  });

  it('refuses a b64 member that is missing, not a string or not base64 with a 400 naming the field', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ b64: fc.anything() }), fc.record({ b64: fc.string().filter((s) => /[^A-Za-z0-9+/_=\s-]/.test(s)) })), (value) => {
        const error = thrown(() => b64Member(value, 'image', 'base64 image bytes'));
        if (error === undefined) return;
        expect(error).to.be.instanceOf(InvalidInput);
        expect((error as Error).message).to.contain('"image');
      }),
    );
    expect((thrown(() => b64Member({ b64: 'a$b' }, 'audio', 'x')) as Error).message).to.equal('"audio.b64" is not base64');
    expect((thrown(() => b64Member(undefined, 'audio', 'base64 of a WAV file')) as Error).message).to.contain('"audio": {"b64"');
  });

  it('answers any bytes with a value or a 400, and names UTF-8 when the bytes are not UTF-8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const error = thrown(() => parseJsonBody(Buffer.from(bytes)));
        if (error !== undefined) expect(error).to.be.instanceOf(InvalidInput);
      }),
    );
    expect((thrown(() => parseJsonBody(Buffer.from('{"text":"caf\xe9"}', 'latin1'))) as Error).message).to.match(/UTF-8/);
    expect(parseJsonBody(Buffer.from('{"text":"café"}'))).to.deep.equal({ text: 'café' });
  });

  it("takes standard JSON only: TF Serving's NaN and Infinity tokens are not JSON for a task body", () => {
    for (const text of ['{"text": NaN}', '{"text": Infinity}', '{"text": -Infinity}']) {
      expect(thrown(() => parseJsonBody(Buffer.from(text))), text).to.be.instanceOf(InvalidInput);
    }
  });

  it('wants an object, and says which one', () => {
    for (const value of [[], 'text', 1, null, true]) {
      expect((thrown(() => jsonObject(value, '{"text": "..."}')) as Error).message).to.equal('the body must be a JSON object: {"text": "..."}');
    }
    expect(jsonObject({ a: 1 }, '{}')).to.deep.equal({ a: 1 });
  });
});
