// Reads single entries out of a zip archive, so extracting kubectl and helm needs neither
// `unzip` nor Python on the machine. Handles stored and deflated entries (not zip64).
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

interface CentralEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

function centralDirectory(zip: Buffer): CentralEntry[] {
  // The end record is at least 22 bytes and may be followed by a comment of up to 64 KiB.
  const searchFrom = Math.max(0, zip.length - 22 - 0xffff);
  let end = -1;
  for (let i = zip.length - 22; i >= searchFrom; i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip archive: no end-of-central-directory record');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: CentralEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) throw new Error(`corrupt zip central directory at ${offset}`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({
      method: zip.readUInt16LE(offset + 10),
      compressedSize: zip.readUInt32LE(offset + 20),
      size: zip.readUInt32LE(offset + 24),
      localHeaderOffset: zip.readUInt32LE(offset + 42),
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Returns the bytes of each named entry; throws if one is missing. */
export function readZipEntries(zipPath: string, names: readonly string[]): Map<string, Buffer> {
  const zip = readFileSync(zipPath);
  const entries = new Map(centralDirectory(zip).map((e) => [e.name, e]));
  const result = new Map<string, Buffer>();
  for (const name of names) {
    const entry = entries.get(name);
    if (!entry) throw new Error(`${zipPath} has no entry ${name}`);
    const local = entry.localHeaderOffset;
    if (zip.readUInt32LE(local) !== LOCAL_FILE_HEADER) throw new Error(`corrupt zip local header for ${name}`);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(dataStart, dataStart + entry.compressedSize);
    let data: Buffer;
    if (entry.method === 0) data = Buffer.from(raw);
    else if (entry.method === 8) data = inflateRawSync(raw);
    else throw new Error(`${name}: unsupported zip compression method ${entry.method}`);
    if (data.length !== entry.size) throw new Error(`${name}: expected ${entry.size} bytes, got ${data.length}`);
    result.set(name, data);
  }
  return result;
}
