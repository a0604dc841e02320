import { expect } from 'chai';
import fc from 'fast-check';
import { ERROR_CONTENT_TYPE, errorAnswer, rawErrorAnswer } from '../../../../inference-runtime/http/errorAnswer.js';

const statuses = fc.integer({ min: 400, max: 599 });
const messages = fc.string({ unit: 'binary', maxLength: 80 });

describe('the error answer', () => {
  it('carries any message back exactly, with the JSON type and the byte length of its body', () => {
    fc.assert(
      fc.property(statuses, messages, (status, message) => {
        const answer = errorAnswer(status, message);
        expect(JSON.parse(answer.body)).to.deep.equal({ error: message });
        expect(answer.headers['Content-Type']).to.equal(ERROR_CONTENT_TYPE);
        expect(answer.headers['Content-Length']).to.equal(String(Buffer.byteLength(answer.body)));
      }),
    );
  });

  it('says Retry-After and Connection: close only when asked, and WWW-Authenticate on a 401 only', () => {
    fc.assert(
      fc.property(statuses, fc.option(fc.integer({ min: 1, max: 86_400 }), { nil: undefined }), fc.boolean(), (status, retryAfterSeconds, close) => {
        const { headers } = errorAnswer(status, 'x', { retryAfterSeconds, close });
        expect(headers['Retry-After']).to.equal(retryAfterSeconds === undefined ? undefined : String(retryAfterSeconds));
        expect(headers.Connection).to.equal(close ? 'close' : undefined);
        expect(headers['WWW-Authenticate']).to.equal(status === 401 ? 'Bearer' : undefined);
      }),
    );
  });

  it('written raw, is a whole HTTP/1.1 response that closes the connection, with the same headers and body', () => {
    fc.assert(
      fc.property(statuses, messages, (status, message) => {
        const answer = errorAnswer(status, message, { retryAfterSeconds: 1 });
        const raw = Buffer.from(rawErrorAnswer(answer));
        const end = raw.indexOf('\r\n\r\n');
        const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
        expect(statusLine).to.match(new RegExp(`^HTTP/1\\.1 ${status} \\S`));
        expect(Object.fromEntries(lines.map((line) => line.split(': ') as [string, string]))).to.deep.equal({ ...answer.headers, Connection: 'close' });
        expect(raw.subarray(end + 4).toString('utf8')).to.equal(answer.body);
      }),
    );
  });
});
