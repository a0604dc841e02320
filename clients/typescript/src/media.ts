/** Bytes an app may send: a Uint8Array (Node Buffer included), an ArrayBuffer, or a Blob/File in browsers. */
export type BinaryInput = Uint8Array | ArrayBuffer | Blob;

/** The media type of JPEG, PNG and WebP bytes, from their signatures. */
export function imageType(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'audio/wav';
  return 'application/octet-stream';
}

/** The bytes of any BinaryInput, read once so that a hedged or retried request sends the same body. */
export async function toBytes(input: BinaryInput): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  return new Uint8Array(await input.arrayBuffer());
}

/** Base64 of bytes (JSON bodies carry audio so); btoa exists in browsers and Node 20. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  // Chunks keep the argument list of fromCharCode short.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
