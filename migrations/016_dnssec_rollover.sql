-- DNSSEC key rollover (issue 18): one pre-publish rollover of a domain's combined signing key
-- (RFC 7583 3.2.1 for the signatures, 3.3.2 Double-DS for the parent), driven by the scheduler
-- (src/dnssec/rollover.ts says the phases; src/store/dnssec-rollover.ts applies them). The keys'
-- own states (dnssec_keys.state) are what the DNS side serves; this row is the rollover's progress,
-- so that it survives a restart and each step is taken by exactly one server (FOR UPDATE SKIP LOCKED).
-- The primary key is the "one rollover at a time" rule.

CREATE TABLE dnssec_rollovers (
  domain_id   bigint PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
  -- Turning signing off deletes the keys, and with them the rollover.
  old_key_id  bigint NOT NULL REFERENCES dnssec_keys(id) ON DELETE CASCADE,
  new_key_id  bigint NOT NULL REFERENCES dnssec_keys(id) ON DELETE CASCADE,
  -- publish: the new key is in the DNSKEY RRset, not signing (waits Ipub = Dprp + TTLkey);
  -- ds: waits for the new key's DS at the parent, then for the parent's DS TTL + Dprp;
  -- retire: the new key signs, the old one stays published until caches forget its signatures.
  phase       text NOT NULL CHECK (phase IN ('publish', 'ds', 'retire')),
  started_at  timestamptz NOT NULL,
  phase_at    timestamptz NOT NULL,
  -- When the scheduler takes the next step; NULL while the DS is not yet seen at the parent.
  next_at     timestamptz,
  -- When the new key's DS was seen at the parent (a domain served here) or confirmed by the
  -- operator, and the TTL of the parent's DS RRset.
  ds_seen_at  timestamptz,
  ds_ttl      integer CHECK (ds_ttl BETWEEN 0 AND 2147483647),
  -- Where the parent's DS is looked for: the domain served here whose zone delegates this one.
  parent_domain_id bigint REFERENCES domains(id) ON DELETE SET NULL,
  -- The intervals the times were computed from, as the API shows them.
  timing      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX dnssec_rollovers_next ON dnssec_rollovers (next_at);
