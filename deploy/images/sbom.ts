// A CycloneDX 1.5 JSON bill of materials for an image: the Debian packages of the base, the Node binary
// and every npm package in /app/node_modules, with package URLs (purl) and the licences and hashes the
// lockfile records, so vulnerability scanners can match them without unpacking the image.
import { createHash } from 'node:crypto';
import type { DebianBase } from './debianBase.js';
import type { LockPackage } from './dependencyClosure.js';
import { packageName } from './dependencyClosure.js';
import type { Pins } from './pins.js';

interface Component {
  type: 'library' | 'application' | 'platform' | 'operating-system';
  'bom-ref': string;
  name: string;
  group?: string;
  version: string;
  purl?: string;
  licenses?: { license: { id?: string; name?: string } }[];
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
}

const SPDX_IDS = new Set(['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'BlueOak-1.0.0', 'Unlicense', 'LGPL-3.0-or-later', 'Python-2.0', 'CC0-1.0']);

function licence(value: string | undefined): Component['licenses'] {
  if (!value) return undefined;
  return [{ license: SPDX_IDS.has(value) ? { id: value } : { name: value } }];
}

/** purl segments are percent-encoded; `@` of a scope too. */
function enc(s: string): string {
  return encodeURIComponent(s);
}

function npmComponent(key: string, entry: LockPackage): Component {
  const full = packageName(key);
  const [group, name] = full.startsWith('@') ? full.split('/') : [undefined, full];
  const version = entry.version ?? '0.0.0';
  const purl = `pkg:npm/${group ? `${enc(group)}/` : ''}${enc(name)}@${enc(version)}`;
  const component: Component = { type: 'library', 'bom-ref': `${purl}#${key}`, name, version, purl };
  if (group) component.group = group;
  const lic = licence(entry.license);
  if (lic) component.licenses = lic;
  const m = /^sha512-(.+)$/.exec(entry.integrity ?? '');
  if (m) component.hashes = [{ alg: 'SHA-512', content: Buffer.from(m[1], 'base64').toString('hex') }];
  component.properties = [{ name: 'mloffload:path', value: `/app/${key}` }];
  return component;
}

export function cycloneDx(options: {
  image: string;
  version: string;
  revision: string;
  epoch: number;
  pins: Pins;
  base: DebianBase;
  npmPackages: [string, LockPackage][];
}): object {
  const { pins, base } = options;
  const distro = `debian-${pins.debian.versionId}`;
  const debian: Component[] = base.packages.map((p) => {
    const purl = `pkg:deb/debian/${enc(p.name)}@${enc(p.version)}?arch=${p.architecture}&distro=${distro}`;
    const c: Component = { type: 'library', 'bom-ref': purl, name: p.name, version: p.version, purl };
    if (p.source && p.source !== p.name) c.properties = [{ name: 'debian:source', value: p.source }];
    return c;
  });
  const nodePurl = `pkg:npm/${pins.node.package}@${pins.node.version}`;
  const node: Component = {
    type: 'platform',
    'bom-ref': nodePurl,
    name: 'node',
    version: pins.node.version,
    purl: nodePurl,
    licenses: [{ license: { id: 'MIT' } }],
    hashes: [{ alg: 'SHA-512', content: Buffer.from(pins.node.integrity.replace(/^sha512-/, ''), 'base64').toString('hex') }],
    properties: [{ name: 'mloffload:path', value: '/usr/local/bin/node' }],
  };
  const components = [...debian, node, ...options.npmPackages.map(([k, e]) => npmComponent(k, e))];
  // Same inputs, same document: the serial number is derived from the content, the time from the pins.
  const digest = createHash('sha256').update(JSON.stringify([options.image, options.version, options.revision, components])).digest('hex');
  const serial = `urn:uuid:${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-8${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: serial,
    version: 1,
    metadata: {
      timestamp: new Date(options.epoch * 1000).toISOString(),
      tools: { components: [{ type: 'application', name: 'mloffload deploy/images', version: options.version }] },
      component: {
        type: 'container',
        'bom-ref': `mloffload/${options.image}@${options.version}`,
        name: `mloffload/${options.image}`,
        version: options.version,
        licenses: [{ license: { id: 'Apache-2.0' } }],
        properties: [
          { name: 'org.opencontainers.image.revision', value: options.revision },
          { name: 'mloffload:debian-mirror', value: base.mirror.kind },
          { name: 'mloffload:debian-snapshot', value: pins.debian.snapshot },
        ],
      },
    },
    components,
  };
}
