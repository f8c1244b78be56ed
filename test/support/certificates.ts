/**
 * Real X.509 certificates for the RFC 8705 tests, made by the `openssl` command line in a temporary directory (not
 * by this library's code): self-signed EC P-256 certificates for clients (RFC 8705 §2.2 self-signed certificate
 * binding) and a server certificate for 127.0.0.1. Each comes with its DER bytes and its `x5t#S256` as computed by
 * `openssl dgst -sha256` over `openssl x509 -outform DER`, so the thumbprint the tests expect is independent of the
 * implementation under test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate, its private key (PEM), its DER bytes and its RFC 8705 thumbprint. */
export interface TestCertificate {
  name: string;
  keyPem: string;
  certPem: string;
  der: Buffer;
  /** base64url(SHA-256(DER)), computed by openssl. */
  x5tS256: string;
  /** The RFC 9440 `Client-Cert` header value: the DER as a Structured Field byte sequence. */
  clientCertHeader: string;
}

function openssl(args: string[], input?: Buffer): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * Makes a self-signed EC P-256 certificate with subject CN=`name` (and, for a server, subjectAltName IP:127.0.0.1
 * and DNS:localhost). Synchronous: openssl takes ~20 ms.
 */
export function makeCertificate(name: string, options: { server?: boolean } = {}): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'auth0-tsoa-api-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const extensions = options.server ? ['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'] : ['-addext', 'extendedKeyUsage=clientAuth'];
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, ...extensions]);
    const der = openssl(['x509', '-in', cert, '-outform', 'DER']);
    const digest = openssl(['dgst', '-sha256', '-binary'], der);
    return {
      name,
      keyPem: readFileSync(key, 'utf8'),
      certPem: readFileSync(cert, 'utf8'),
      der,
      x5tS256: digest.toString('base64url'),
      clientCertHeader: `:${der.toString('base64')}:`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
