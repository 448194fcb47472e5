// Who may change what through UPDATE, like BIND's update-policy grants: per TSIG key, owner name
// patterns relative to the domain apex and record types. "@" is the apex; a "*" label stands for one
// or more labels anywhere in a pattern ("_acme-challenge.*" is every ACME challenge name below the
// apex, "*" every name but the apex); "ANY" among the types allows every type. Comparison ignores
// case (RFC 4343).
import { TYPE, typeName } from '../dns/constants.js';

export interface PolicyRule { key: string; names: string[]; types: string[] }

const labelsOf = (rel: string): string[] => (rel === '@' ? [] : rel.toLowerCase().split('.'));

/** Whether `owner` (relative key, "@" the apex) matches the pattern. */
export function nameMatches(pattern: string, owner: string): boolean {
  const p = labelsOf(pattern.trim());
  const o = labelsOf(owner);
  const go = (i: number, j: number): boolean => {
    if (i === p.length) return j === o.length;
    if (p[i] === '*') {
      for (let k = j + 1; k <= o.length; k++) if (go(i + 1, k)) return true;
      return false;
    }
    return j < o.length && p[i] === o[j] && go(i + 1, j + 1);
  };
  return go(0, 0);
}

/** The key's rule, if the domain's policy names the key at all. */
export function ruleOf(rules: readonly PolicyRule[], key: string): PolicyRule | undefined {
  return rules.find((r) => r.key === key);
}

/** Whether the rule lets its key touch `type` at `owner`. A delete of every type at a name (type
 *  ANY) needs "ANY". */
export function allows(rule: PolicyRule, owner: string, type: number): boolean {
  const types = rule.types.map((t) => t.toUpperCase());
  const typeOk = types.includes('ANY') || (type !== TYPE.ANY && types.includes(typeName(type)));
  return typeOk && rule.names.some((n) => nameMatches(n, owner));
}
