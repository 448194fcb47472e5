// API client certificates: what the TLS layer verified (against GLIDEPATH_API_CLIENT_CA and
// GLIDEPATH_API_CLIENT_CRL), reduced to "none", "invalid with a reason", or "valid with a fingerprint
// and a subject". The TLS server asks for a certificate but accepts any (rejectUnauthorized: false)
// so that a bad one gets an HTTP 401 that says why, instead of a bare handshake alert.
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

export type ClientCertMode = 'off' | 'optional' | 'require';

export type PeerCert =
  | { state: 'none' }
  | { state: 'invalid'; reason: string; subject: string; fingerprint: string }
  | { state: 'valid'; subject: string; fingerprint: string };

// OpenSSL verify codes (as Node names them) in words an operator can act on.
const REASONS: Record<string, string> = {
  CERT_REVOKED: 'the client certificate is revoked (GLIDEPATH_API_CLIENT_CRL)',
  CERT_HAS_EXPIRED: 'the client certificate has expired',
  CERT_NOT_YET_VALID: 'the client certificate is not valid yet',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the client certificate is self-signed, not issued by a trusted CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the client certificate is not issued by a trusted CA (GLIDEPATH_API_CLIENT_CA)',
  UNABLE_TO_GET_ISSUER_CERT: 'the client certificate is not issued by a trusted CA (GLIDEPATH_API_CLIENT_CA)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the client certificate is not issued by a trusted CA (GLIDEPATH_API_CLIENT_CA)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the client certificate chains to an untrusted root',
  UNABLE_TO_GET_CRL: 'no revocation list for the client certificate\'s issuer (GLIDEPATH_API_CLIENT_CRL)',
  CRL_HAS_EXPIRED: 'the revocation list has expired (GLIDEPATH_API_CLIENT_CRL)',
  CERT_SIGNATURE_FAILURE: 'the client certificate\'s signature does not verify',
};

/** "C = FR, O = Example, CN = panel", "subject=/C=FR/O=Example/CN=panel" or Node's multi-line form,
 *  all to "C=FR,O=Example,CN=panel" (certificate order, as OpenSSL prints it by default). */
export function normalizeSubject(text: string): string {
  let t = text.trim().replace(/^subject\s*=\s*/i, '');
  if (t.startsWith('/')) t = t.slice(1).split('/').join(',');
  return t.split(/\s*[,\n]\s*/).filter((p) => p !== '').map((p) => p.replace(/\s*=\s*/, '=')).join(',');
}

/** "AB:CD:…" (openssl x509 -fingerprint -sha256) or plain hex, to lower-case hex without colons. */
export function normalizeFingerprint(text: string): string {
  return text.trim().replace(/^sha256 fingerprint\s*=\s*/i, '').replace(/:/g, '').toLowerCase();
}

export function peerCert(req: FastifyRequest): PeerCert {
  const sock = req.raw.socket as TLSSocket;
  if (typeof sock.getPeerCertificate !== 'function') return { state: 'none' };
  const peer = sock.getPeerCertificate();
  if (!peer || !peer.raw) return { state: 'none' };
  const x = new X509Certificate(peer.raw);
  const subject = normalizeSubject(x.subject);
  const fingerprint = normalizeFingerprint(x.fingerprint256);
  if (sock.authorized) return { state: 'valid', subject, fingerprint };
  let code = String(sock.authorizationError ?? 'UNKNOWN');
  // With a CRL configured OpenSSL checks revocation first and reports a self-signed stranger as
  // "no CRL for its issuer"; what the operator needs to hear is that nobody trusted issued it.
  if (code === 'UNABLE_TO_GET_CRL' && x.issuer === x.subject) code = 'DEPTH_ZERO_SELF_SIGNED_CERT';
  return { state: 'invalid', reason: REASONS[code] ?? `the client certificate does not verify (${code})`, subject, fingerprint };
}
