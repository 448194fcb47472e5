-- Names below a domain, found by prefix on the reversed name: store/domain-claims.ts asks "which
-- domains lie at, above or below this name?" on every domain creation, and a LIKE 'prefix%' on
-- reverse(name) is an index range scan where a LIKE '%suffix' on name would read every row.
CREATE INDEX domains_name_reversed ON domains (reverse(name) text_pattern_ops);
