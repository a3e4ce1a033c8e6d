/**
 * The part of Mautic's contact search syntax the stand-in understands (`GET /api/contacts?search=`):
 * `email:x@y`, `name:`, `company:`, `id:`, `ids:1,2`, `tag:`, `is:anonymous`, `<field alias>:value`,
 * `!` to negate, `%`/`*` wildcards, and bare terms matched anywhere in name, email or company.
 * Terms are ANDed. Matching ignores case (MySQL's collation).
 */
import type { Contact } from './types.js';

type Predicate = (contact: Contact) => boolean;

export function parseContactSearch(search: string, isField: (alias: string) => boolean): Predicate {
  const predicates = tokens(search).map((token) => termPredicate(token, isField));
  return (contact) => predicates.every((predicate) => predicate(contact));
}

function tokens(search: string): string[] {
  const found: string[] = [];
  const pattern = /(!?[\w.]+:)?"([^"]*)"|(\S+)/g;
  for (const match of search.matchAll(pattern)) {
    if (match[3] !== undefined) found.push(match[3]);
    else found.push(`${match[1] ?? ''}${match[2] ?? ''}`);
  }
  return found.filter((token) => token !== '');
}

function termPredicate(token: string, isField: (alias: string) => boolean): Predicate {
  const negated = token.startsWith('!');
  const term = negated ? token.slice(1) : token;
  const colon = term.indexOf(':');
  const command = colon > 0 ? term.slice(0, colon).toLowerCase() : '';
  const value = colon > 0 ? term.slice(colon + 1) : term;
  let predicate: Predicate;
  switch (command) {
    case 'email':
    case 'company':
      predicate = (contact) => matches(contact.fields[command], value, false);
      break;
    case 'name':
      predicate = (contact) =>
        matches(contact.fields.firstname, value, false) ||
        matches(contact.fields.lastname, value, false) ||
        matches(`${contact.fields.firstname ?? ''} ${contact.fields.lastname ?? ''}`.trim(), value, false);
      break;
    case 'id':
      predicate = (contact) => String(contact.id) === value;
      break;
    case 'ids':
      predicate = (contact) => value.split(',').map((id) => id.trim()).includes(String(contact.id));
      break;
    case 'tag':
      predicate = (contact) => contact.tags.some((tag) => matches(tag, value, false));
      break;
    case 'is':
      predicate = value.toLowerCase() === 'anonymous'
        ? (contact) => !contact.fields.email && !contact.fields.firstname && !contact.fields.lastname
        : () => true;
      break;
    default:
      if (command !== '' && isField(command)) {
        predicate = (contact) => matches(contact.fields[command], value, false);
      } else {
        predicate = (contact) =>
          ['firstname', 'lastname', 'email', 'company'].some((alias) => matches(contact.fields[alias], term, true));
      }
  }
  return negated ? (contact) => !predicate(contact) : predicate;
}

/** Exact (or wildcard) match; `contains` for bare terms. */
function matches(actual: string | undefined, wanted: string, contains: boolean): boolean {
  if (actual === undefined || actual === '') return false;
  const text = actual.toLowerCase();
  const query = wanted.toLowerCase();
  if (contains) return text.includes(query.replace(/[%*]/g, ''));
  if (/[%*]/.test(query)) {
    const pattern = query.split(/[%*]/).map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    return new RegExp(`^${pattern}$`).test(text);
  }
  return text === query;
}
