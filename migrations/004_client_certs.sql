-- API client certificates mapped to a tenant (or admin): a verified certificate that matches a row
-- authenticates like a token of that tenant. Matched by SHA-256 fingerprint (lower-case hex, no
-- colons) or by subject DN (normalised "C=FR,O=Example,CN=panel", in certificate order).
CREATE TABLE client_certs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   bigint REFERENCES tenants(id) ON DELETE CASCADE,
  is_admin    boolean NOT NULL DEFAULT false,
  fingerprint text UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
  subject     text UNIQUE CHECK (length(subject) BETWEEN 1 AND 1024),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (is_admin OR tenant_id IS NOT NULL),
  CHECK (NOT (is_admin AND tenant_id IS NOT NULL)),
  CHECK ((fingerprint IS NULL) <> (subject IS NULL))
);
