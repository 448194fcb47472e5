-- DNSSEC (issue 18): signing keys belong to the DOMAIN, not the zone, so that domains sharing a
-- zone each sign with their own keys and a Progressive Zone Change keeps them. The private key is
-- stored encrypted (AES-256-GCM) under a key-encryption key that lives outside the database
-- (GLIDEPATH_KEY_FILE): a dump alone cannot sign.

CREATE TABLE dnssec_keys (
  id          bigserial PRIMARY KEY,
  domain_id   bigint NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  -- RFC 8624 algorithm numbers: 13 ECDSAP256SHA256, 15 ED25519.
  algorithm   smallint NOT NULL CHECK (algorithm IN (13, 15)),
  -- RFC 4034 2.1.1: 257 = Zone Key + Secure Entry Point (one combined signing key, a CSK).
  flags       integer NOT NULL DEFAULT 257 CHECK (flags IN (256, 257)),
  -- The DNSKEY public key field (RFC 6605 4, RFC 8080 3).
  public_key  bytea NOT NULL,
  -- nonce (12) || tag (16) || ciphertext of the PKCS #8 DER private key.
  private_key bytea NOT NULL,
  -- SHA-256 of the key-encryption key, first 8 octets in hex: a wrong key file is named as such.
  kek_id      text NOT NULL,
  key_tag     integer NOT NULL,
  -- RFC 7583 states as used here: published (in DNSKEY, not signing), active (signing, published),
  -- retired (published, not signing, until caches forget it).
  state       text NOT NULL DEFAULT 'active' CHECK (state IN ('published', 'active', 'retired')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- When the scheduler moves the key to its next state (rollover); NULL: stays.
  next_at     timestamptz
);
CREATE INDEX dnssec_keys_domain ON dnssec_keys (domain_id);
CREATE INDEX dnssec_keys_next ON dnssec_keys (next_at) WHERE next_at IS NOT NULL;

-- A domain whose signing was turned off keeps a row here until the parent has dropped the DS:
-- it publishes the CDS/CDNSKEY "delete" records (RFC 8078 4).
CREATE TABLE dnssec_unsigned (
  domain_id   bigint PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
  since       timestamptz NOT NULL DEFAULT now()
);

-- A key change changes what the domain serves (DNSKEY, signatures, CDS): move the served serial once
-- per transaction (the domain's own part of it, serial_offset, as 008's domain_reannounce does), with
-- an IXFR step that is not a record difference (secondaries get the signed zone by AXFR), and
-- journal the domain so every server reloads it. The key material is not journaled.
CREATE FUNCTION dnssec_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d domains; did bigint; zs bigint; old_served bigint; served bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN did := OLD.domain_id; ELSE did := NEW.domain_id; END IF;
  SELECT * INTO d FROM domains WHERE id = did FOR UPDATE;
  IF d.id IS NULL THEN RETURN NULL; END IF; -- the domain's own delete journals it
  SELECT serial INTO zs FROM zones WHERE id = d.zone_id FOR SHARE;
  old_served := domain_serial(zs, d.serial_offset);
  served := old_served;
  IF d.serial_txid IS DISTINCT FROM txid_current() THEN
    served := next_serial(old_served, NULL);
    UPDATE domains SET serial_offset = serial_offset_for(served, zs), serial_txid = txid_current(), updated_at = now()
     WHERE id = did;
    INSERT INTO ixfr_steps (domain_id, txid, serial_from, serial_to, diffable, zone_id, zone_serial)
    VALUES (did, txid_current(), old_served, served, false, d.zone_id, zs)
    ON CONFLICT (domain_id, txid) DO UPDATE SET serial_to = EXCLUDED.serial_to, diffable = false, zone_serial = EXCLUDED.zone_serial;
  END IF;
  PERFORM journal_append('domain', 'dnssec', d.zone_id, d.name, served, '{}', d.id, d.tenant_id);
  RETURN NULL;
END $$;
CREATE TRIGGER dnssec_keys_changed AFTER INSERT OR UPDATE OR DELETE ON dnssec_keys
  FOR EACH ROW EXECUTE FUNCTION dnssec_changed();
CREATE TRIGGER dnssec_unsigned_changed AFTER INSERT OR UPDATE OR DELETE ON dnssec_unsigned
  FOR EACH ROW EXECUTE FUNCTION dnssec_changed();
