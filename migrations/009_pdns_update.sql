-- Issue 17: what PowerDNS-API clients and RFC 2136 UPDATE need beside the data model.

-- PowerDNS zone metadata of a domain, echoed back as the client set it (terraform diffs `kind`,
-- `account` and `soa_edit_api`; DNSControl decodes `kind` and `soa_edit_api` strictly). A domain
-- without a row reads as Native / "" / DEFAULT. Glidepath itself ignores these values: the serial is
-- bumped once per change whatever soa_edit_api says.
CREATE TABLE pdns_zone_meta (
  domain_id    bigint PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
  kind         text NOT NULL DEFAULT 'Native' CHECK (kind IN ('Native', 'Master', 'Slave', 'Producer', 'Consumer')),
  account      text NOT NULL DEFAULT '' CHECK (length(account) <= 255),
  soa_edit_api text NOT NULL DEFAULT 'DEFAULT'
               CHECK (soa_edit_api IN ('', 'DEFAULT', 'INCREASE', 'EPOCH', 'SOA-EDIT', 'SOA-EDIT-INCREASE', 'NONE')),
  masters      text[] NOT NULL DEFAULT '{}'
);

-- RFC 2136 clients default to HMAC-MD5 (certbot, cert-manager) or HMAC-SHA1 (lego): RFC 8945 6
-- keeps them verifiable beside SHA-224/256/384/512.
ALTER TABLE tsig_keys DROP CONSTRAINT tsig_keys_algorithm_check;
ALTER TABLE tsig_keys ADD CONSTRAINT tsig_keys_algorithm_check
  CHECK (algorithm IN ('hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'));

-- Who may send dynamic UPDATEs (RFC 2136) to a domain: per TSIG key, the owner patterns (relative
-- to the apex, "@" the apex, a "*" label one or more labels) and record types it may touch, as
-- BIND's update-policy grants. No row for a key: its UPDATEs to the domain are REFUSED.
CREATE TABLE update_policy (
  domain_id bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  -- A key named by a policy cannot be deleted (409 from the API).
  key_name  text NOT NULL REFERENCES tsig_keys(name) ON DELETE RESTRICT,
  names     text[] NOT NULL CHECK (cardinality(names) > 0),
  -- Type mnemonics; "ANY" allows every type.
  types     text[] NOT NULL CHECK (cardinality(types) > 0),
  PRIMARY KEY (domain_id, key_name)
);
