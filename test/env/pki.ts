// Certificates, service-account keys and kubeconfigs for a throw-away control plane.
// openssl makes the X.509 certificates (node:crypto can parse but not issue them).
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from 'js-yaml';

/** The cluster's first service IP: the in-cluster `kubernetes` Service gets it. */
export const serviceClusterIpRange = '10.96.0.0/16';
const kubernetesServiceIp = '10.96.0.1';

const opensslConfig = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:${kubernetesServiceIp}
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
[node-serving]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
`;

/** A client identity: the user name (CN) and groups (O) the API server will see. */
export interface ClientIdentity {
  readonly file: string;
  readonly user: string;
  readonly groups?: readonly string[];
}

/** Identities of the control-plane components and the admin, as kubeadm names them. */
export const identities = {
  admin: { file: 'admin', user: 'mloffload-admin', groups: ['system:masters'] },
  controllerManager: { file: 'kube-controller-manager', user: 'system:kube-controller-manager' },
  scheduler: { file: 'kube-scheduler', user: 'system:kube-scheduler' },
  // kwok writes node and pod status, leases and events for every simulated node.
  kwok: { file: 'kwok', user: 'kwok-controller', groups: ['system:masters'] },
  // The API server's identity towards kubelets (logs, exec, port-forward), as kubeadm's apiserver-kubelet-client.
  apiServerKubeletClient: { file: 'apiserver-kubelet-client', user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] },
} as const satisfies Record<string, ClientIdentity>;

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
  /** A second CA for the aggregation layer's front proxy, as kubeadm sets it up. */
  readonly frontProxyCaCert: string;
  readonly frontProxyClientCert: string;
  readonly frontProxyClientKey: string;
}

/** The only client of the front-proxy CA that the API server trusts to assert users in request headers. */
export const frontProxyClientName = 'front-proxy-client';

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error) {
    throw new Error('`openssl` is not on PATH; it is needed to issue the control plane certificates (apt-get install openssl)');
  }
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}`);
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function subject(id: ClientIdentity): string {
  return [...(id.groups ?? []).map((g) => `/O=${g}`), `/CN=${id.user}`].join('');
}

/**
 * Issues a CA, one serving certificate for every component, client certificates, a front-proxy CA and
 * client (so controller manager and scheduler find the request-header settings they delegate to), and
 * service-account keys.
 */
export function createPki(dir: string): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'openssl.cnf'), opensslConfig);
  const common = ['req', '-x509', '-config', 'openssl.cnf', '-days', '365'];
  openssl([...common, '-extensions', 'ca', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=mloffload-test-ca'], dir);
  const signed = [...common, '-CA', 'ca.crt', '-CAkey', 'ca.key'];
  openssl([...signed, '-extensions', 'server', ...ecKey, '-keyout', 'serving.key', '-out', 'serving.crt', '-subj', '/CN=kube-apiserver'], dir);
  openssl([...common, '-extensions', 'ca', ...ecKey, '-keyout', 'front-proxy-ca.key', '-out', 'front-proxy-ca.crt', '-subj', '/CN=mloffload-front-proxy-ca'], dir);
  openssl(
    [...common, '-CA', 'front-proxy-ca.crt', '-CAkey', 'front-proxy-ca.key', '-extensions', 'client', ...ecKey]
      .concat(['-keyout', 'front-proxy-client.key', '-out', 'front-proxy-client.crt', '-subj', `/CN=${frontProxyClientName}`]),
    dir,
  );
  for (const id of Object.values(identities)) {
    openssl([...signed, '-extensions', 'client', ...ecKey, '-keyout', `${id.file}.key`, '-out', `${id.file}.crt`, '-subj', subject(id)], dir);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  return pkiAt(dir);
}

/** The identity a kubelet registers with: what the Node authorizer and the `system:node` ClusterRole expect. */
export function nodeIdentity(nodeName: string): ClientIdentity {
  return { file: `node-${nodeName}`, user: `system:node:${nodeName}`, groups: ['system:nodes'] };
}

/** Issues a client certificate signed by the cluster CA (for identities made after the control plane started). */
export function issueClientCertificate(pki: Pki, id: ClientIdentity): void {
  const args = ['req', '-x509', '-config', 'openssl.cnf', '-days', '365', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-extensions', 'client'];
  openssl([...args, ...ecKey, '-keyout', `${id.file}.key`, '-out', `${id.file}.crt`, '-subj', subject(id)], pki.dir);
}

/**
 * Issues a kubelet serving certificate for a node's name and IP, signed by the cluster CA, so that the API
 * server verifies the kubelet it dials for logs and exec. Returns the certificate and key paths.
 */
export function issueNodeServingCertificate(pki: Pki, nodeName: string, nodeIp: string): { cert: string; key: string } {
  const file = `node-${nodeName}-serving`;
  const args = ['req', '-x509', '-config', 'openssl.cnf', '-days', '365', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-extensions', 'node-serving'];
  openssl([...args, ...ecKey, '-keyout', `${file}.key`, '-out', `${file}.crt`, '-subj', `/CN=${nodeName}`, '-addext', `subjectAltName=DNS:${nodeName},IP:${nodeIp}`], pki.dir);
  return { cert: join(pki.dir, `${file}.crt`), key: join(pki.dir, `${file}.key`) };
}

/** The Pki of an existing state directory's pki folder (the file names createPki gives them). */
export function pkiAt(dir: string): Pki {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    servingCert: join(dir, 'serving.crt'),
    servingKey: join(dir, 'serving.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPublicKey: join(dir, 'sa.pub'),
    frontProxyCaCert: join(dir, 'front-proxy-ca.crt'),
    frontProxyClientCert: join(dir, 'front-proxy-client.crt'),
    frontProxyClientKey: join(dir, 'front-proxy-client.key'),
  };
}

/** Writes a self-contained kubeconfig (certificates inlined) for one identity. */
export function writeKubeconfig(path: string, pki: Pki, server: string, id: ClientIdentity): void {
  const b64 = (file: string): string => readFileSync(join(pki.dir, file)).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'mloffload-test', cluster: { server, 'certificate-authority-data': b64('ca.crt') } }],
    users: [{ name: id.user, user: { 'client-certificate-data': b64(`${id.file}.crt`), 'client-key-data': b64(`${id.file}.key`) } }],
    contexts: [{ name: 'mloffload-test', context: { cluster: 'mloffload-test', user: id.user } }],
    'current-context': 'mloffload-test',
    preferences: {},
  };
  writeFileSync(path, dump(config), { mode: 0o600 });
}
