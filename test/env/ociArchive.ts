// A one-layer OCI image archive made from local files, for images the test nodes need and nothing pulls
// (the pods' sandbox image). `ctr images import` reads it; the layer is an uncompressed tar made by tar(1).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface OciImageSpec {
  /** The name `ctr images import` gives the image (annotation org.opencontainers.image.ref.name). */
  readonly ref: string;
  /** Folder whose files become the image's root file system. */
  readonly rootDir: string;
  readonly entrypoint: readonly string[];
  readonly user?: string;
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Writes the archive to `target` (atomically) and returns the manifest digest. */
export function writeOciArchive(spec: OciImageSpec, target: string): string {
  const work = mkdtempSync(join(dirname(target), '.oci-'));
  try {
    const blobs = join(work, 'layout', 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const put = (bytes: Buffer): { digest: string; size: number } => {
      const digest = sha256(bytes);
      writeFileSync(join(blobs, digest.slice('sha256:'.length)), bytes);
      return { digest, size: bytes.length };
    };
    // Owned by root, no timestamps: the same files give the same digest.
    const layerTar = join(work, 'layer.tar');
    execFileSync('tar', ['--create', '--file', layerTar, '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--sort=name', '-C', spec.rootDir, '.']);
    const layer = put(readFileSync(layerTar));
    const config = put(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Entrypoint: spec.entrypoint, ...(spec.user ? { User: spec.user } : {}) },
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
        }),
      ),
    );
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
        }),
      ),
    );
    writeFileSync(join(work, 'layout', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(work, 'layout', 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': spec.ref } }],
      }),
    );
    const archive = join(work, 'image.oci.tar');
    execFileSync('tar', ['--create', '--file', archive, '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--sort=name', '-C', join(work, 'layout'), '.']);
    renameSync(archive, target);
    return manifest.digest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
