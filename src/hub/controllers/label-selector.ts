// Kubernetes meta/v1 LabelSelector semantics for edge selection: matching (matchLabels AND matchExpressions) and
// validation. An invalid selector must become a condition on the VirtualWorkload, so validation returns messages
// instead of throwing, and matching never throws either (an invalid requirement simply matches nothing).
import { LabelSelectorOperator } from '../../api/constants.ts';
import type { LabelSelector, LabelSelectorRequirement } from '../../api/types.ts';
import { isDNS1123Subdomain } from '../../api/name-syntax.ts';

export type Labels = Readonly<Record<string, string>>;

/**
 * True when `labels` satisfy every requirement of `selector`.
 * - `selector` undefined/null: matches everything (docs/api.md: an absent edgeSelector means all edges). This differs
 *   from metav1.LabelSelectorAsSelector, where nil matches nothing; the VW API defines absence as "all".
 * - `{}` (no requirements): matches everything, as in Kubernetes.
 * - NotIn and DoesNotExist match when the key is absent, as in Kubernetes.
 * Callers are expected to run validateSelector first; an unknown operator here matches nothing rather than throwing.
 */
export function matchesSelector(labels: Labels | undefined, selector: LabelSelector | undefined | null): boolean {
  if (selector == null) return true;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(have, key) || have[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    if (!matchesRequirement(have, requirement)) return false;
  }
  return true;
}

function matchesRequirement(labels: Labels, requirement: LabelSelectorRequirement): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case LabelSelectorOperator.In:
      return present && values.includes(labels[requirement.key] as string);
    case LabelSelectorOperator.NotIn:
      return !present || !values.includes(labels[requirement.key] as string);
    case LabelSelectorOperator.Exists:
      return present;
    case LabelSelectorOperator.DoesNotExist:
      return !present;
    default:
      return false;
  }
}

// Syntax from k8s.io/apimachinery/pkg/util/validation: a qualified name is an optional DNS-1123 subdomain prefix
// (≤ 253) and '/', then a name of ≤ 63 alphanumerics, '-', '_', '.', starting and ending alphanumeric.
// A label value is the same name syntax, or empty.
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Empty list when `key` is a valid label key; otherwise what is wrong with it. */
export function labelKeyErrors(key: unknown): string[] {
  if (typeof key !== 'string') return ['must be a string'];
  const parts = key.split('/');
  if (parts.length > 2) return [`invalid label key "${key}": at most one '/' is allowed`];
  const name = parts.length === 2 ? (parts[1] as string) : (parts[0] as string);
  const errors: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (prefix.length === 0) errors.push(`invalid label key "${key}": prefix part must be non-empty`);
    else if (!isDNS1123Subdomain(prefix)) {
      errors.push(`invalid label key "${key}": prefix part must be a DNS-1123 subdomain of at most 253 characters`);
    }
  }
  if (name.length === 0) errors.push(`invalid label key "${key}": name part must be non-empty`);
  else if (name.length > 63 || !NAME_PART.test(name)) {
    errors.push(
      `invalid label key "${key}": name part must be at most 63 characters of alphanumerics, '-', '_' or '.', ` +
        'starting and ending with an alphanumeric character',
    );
  }
  return errors;
}

/** Empty list when `value` is a valid label value (the empty string is valid). */
export function labelValueErrors(value: unknown): string[] {
  if (typeof value !== 'string') return ['must be a string'];
  if (value === '') return [];
  if (value.length > 63 || !NAME_PART.test(value)) {
    return [
      `invalid label value "${value}": must be at most 63 characters of alphanumerics, '-', '_' or '.', ` +
        'starting and ending with an alphanumeric character',
    ];
  }
  return [];
}

const OPERATORS: readonly string[] = Object.values(LabelSelectorOperator);

/**
 * Every problem with `selector`, each prefixed by its field path relative to the selector
 * (e.g. `matchExpressions[1].values: …`). Empty when the selector is valid or absent. Typed `unknown`-tolerant:
 * objects that bypassed admission (or a schema without full validation) must not crash the scheduler.
 */
export function validateSelector(selector: LabelSelector | undefined | null): string[] {
  if (selector == null) return [];
  if (typeof selector !== 'object' || Array.isArray(selector)) return ['selector: must be an object'];
  const errors: string[] = [];
  const matchLabels: unknown = selector.matchLabels;
  if (matchLabels != null) {
    if (typeof matchLabels !== 'object' || Array.isArray(matchLabels)) errors.push('matchLabels: must be an object');
    else {
      for (const [key, value] of Object.entries(matchLabels)) {
        for (const e of labelKeyErrors(key)) errors.push(`matchLabels: ${e}`);
        for (const e of labelValueErrors(value)) errors.push(`matchLabels[${key}]: ${e}`);
      }
    }
  }
  const expressions: unknown = selector.matchExpressions;
  if (expressions != null) {
    if (!Array.isArray(expressions)) errors.push('matchExpressions: must be a list');
    else expressions.forEach((r: unknown, i) => errors.push(...requirementErrors(r, `matchExpressions[${i}]`)));
  }
  return errors;
}

function requirementErrors(requirement: unknown, path: string): string[] {
  if (requirement == null || typeof requirement !== 'object') return [`${path}: must be an object`];
  const { key, operator, values } = requirement as Record<string, unknown>;
  const errors = labelKeyErrors(key).map((e) => `${path}.key: ${e}`);
  if (values != null && !Array.isArray(values)) errors.push(`${path}.values: must be a list`);
  const list: unknown[] = Array.isArray(values) ? values : [];
  if (typeof operator !== 'string' || !OPERATORS.includes(operator)) {
    errors.push(`${path}.operator: unsupported operator ${JSON.stringify(operator)} (want ${OPERATORS.join(', ')})`);
  } else if ((operator === 'In' || operator === 'NotIn') && list.length === 0) {
    errors.push(`${path}.values: must be non-empty for operator ${operator}`);
  } else if ((operator === 'Exists' || operator === 'DoesNotExist') && list.length > 0) {
    errors.push(`${path}.values: must be empty for operator ${operator}`);
  }
  list.forEach((v, i) => errors.push(...labelValueErrors(v).map((e) => `${path}.values[${i}]: ${e}`)));
  return errors;
}
