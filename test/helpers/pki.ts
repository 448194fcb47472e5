// A throw-away PKI made with the openssl command: a CA that issues client certificates (valid,
// expired, later revoked), its CRL, a server certificate, and a self-signed stranger.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  crl: string;
  /** A key and certificate signed by the CA (or with startdate/enddate, to make expired ones). */
  issue(name: string, subject: string, o?: { start?: string; end?: string }): { cert: string; key: string };
  /** A self-signed certificate no configured CA knows. */
  selfSigned(name: string, subject: string): { cert: string; key: string };
  revoke(cert: string): void;
  /** Writes the CRL file again from the CA's database. */
  gencrl(): void;
  remove(): void;
}

const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-pki-'));
  mkdirSync(join(dir, 'newcerts'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '1000\n');
  const cnf = join(dir, 'ca.cnf');
  writeFileSync(cnf, `[ ca ]
default_ca = test_ca
[ test_ca ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.pem
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 2
default_crl_days = 2
policy = policy_any
unique_subject = no
preserve = yes
[ policy_any ]
commonName = supplied
organizationName = optional
countryName = optional
`);
  const ca = join(dir, 'ca.pem');
  const crl = join(dir, 'crl.pem');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', join(dir, 'ca.key'), '-out', ca, '-days', '2', '-subj', '/CN=Glidepath Test CA']);
  const pki: Pki = {
    dir, ca, crl,
    issue(name, subject, o = {}) {
      const key = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const cert = join(dir, `${name}.pem`);
      run(['req', '-new', ...ec, '-keyout', key, '-out', csr, '-subj', subject]);
      run(['ca', '-batch', '-preserveDN', '-config', cnf, '-notext', '-in', csr, '-out', cert,
        ...(o.start ? ['-startdate', o.start] : []), ...(o.end ? ['-enddate', o.end] : [])]);
      return { cert, key };
    },
    selfSigned(name, subject) {
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.pem`);
      run(['req', '-x509', ...ec, '-keyout', key, '-out', cert, '-days', '2', '-subj', subject]);
      return { cert, key };
    },
    revoke(cert) { run(['ca', '-config', cnf, '-revoke', cert]); },
    gencrl() { run(['ca', '-config', cnf, '-gencrl', '-out', crl]); },
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
  pki.gencrl();
  return pki;
}
