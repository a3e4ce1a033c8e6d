/**
 * Mautic's default contact fields as a 5.1 install defines them (ids, labels, types, groups,
 * properties), read off the recorded answers (docs/protocol.md §10): the stand-in lists them in
 * every contact it answers, with the same ids, so clients that read `fields.core.email.id` agree.
 */

export type FieldGroup = 'core' | 'social' | 'personal' | 'professional';

export interface FieldDefinition {
  id: number;
  alias: string;
  label: string;
  /** Mautic's field type: text, email, tel, number, lookup, datetime, url, … */
  type: string;
  group: FieldGroup;
  /** `is_fixed`: a field Mautic ships and does not let admins delete. */
  isFixed: boolean;
  /** Parsed properties (`{list: […]}` for a lookup); `{}` when none. */
  properties: Record<string, unknown>;
  /** The same, PHP-serialized, as a loaded entity carries them. */
  serializedProperties: string;
  defaultValue: string | null;
  isUniqueIdentifier: boolean;
  isPubliclyUpdatable: boolean;
}

const EMPTY = 'a:0:{}';

function field(
  id: number,
  alias: string,
  label: string,
  type: string,
  group: FieldGroup,
  extra: Partial<FieldDefinition> = {},
): FieldDefinition {
  return {
    id,
    alias,
    label,
    type,
    group,
    isFixed: true,
    properties: {},
    serializedProperties: EMPTY,
    defaultValue: null,
    isUniqueIdentifier: false,
    isPubliclyUpdatable: false,
    ...extra,
  };
}

/** In Mautic's order (the order of `fields.all`). */
export const DEFAULT_FIELDS: readonly FieldDefinition[] = [
  field(1, 'title', 'Title', 'lookup', 'core', {
    properties: { list: ['Mr', 'Mrs', 'Miss'] },
    serializedProperties: 'a:1:{s:4:"list";a:3:{i:0;s:2:"Mr";i:1;s:3:"Mrs";i:2;s:4:"Miss";}}',
  }),
  field(2, 'firstname', 'First Name', 'text', 'core'),
  field(3, 'lastname', 'Last Name', 'text', 'core'),
  field(4, 'company', 'Primary company', 'text', 'core'),
  field(5, 'position', 'Position', 'text', 'core'),
  field(6, 'email', 'Email', 'email', 'core', { isUniqueIdentifier: true }),
  field(7, 'mobile', 'Mobile', 'tel', 'core'),
  field(8, 'phone', 'Phone', 'tel', 'core'),
  field(9, 'points', 'Points', 'number', 'core', { defaultValue: '0' }),
  field(10, 'fax', 'Fax', 'tel', 'core', { isFixed: false }),
  field(11, 'address1', 'Address Line 1', 'text', 'core'),
  field(12, 'address2', 'Address Line 2', 'text', 'core'),
  field(13, 'city', 'City', 'text', 'core'),
  field(14, 'state', 'State', 'region', 'core'),
  field(15, 'zipcode', 'Zip Code', 'text', 'core'),
  field(16, 'country', 'Country', 'country', 'core'),
  field(17, 'preferred_locale', 'Preferred Locale', 'locale', 'core'),
  field(18, 'timezone', 'Preferred Timezone', 'timezone', 'core'),
  field(19, 'last_active', 'Date Last Active', 'datetime', 'core'),
  field(20, 'attribution_date', 'Attribution Date', 'datetime', 'core'),
  field(21, 'attribution', 'Attribution', 'number', 'core', {
    properties: { roundmode: 4, scale: 2 },
    serializedProperties: 'a:2:{s:9:"roundmode";i:4;s:5:"scale";i:2;}',
  }),
  field(22, 'website', 'Website', 'url', 'core', { isFixed: false }),
  field(23, 'facebook', 'Facebook', 'text', 'social', { isFixed: false }),
  field(24, 'foursquare', 'Foursquare', 'text', 'social', { isFixed: false }),
  field(25, 'instagram', 'Instagram', 'text', 'social', { isFixed: false }),
  field(26, 'linkedin', 'mautic.lead.field.linkedin', 'text', 'social', { isFixed: false }),
  field(27, 'skype', 'Skype', 'text', 'social', { isFixed: false }),
  field(28, 'twitter', 'Twitter', 'text', 'social', { isFixed: false }),
];

/** Fields whose value is a number in `fields.all` (the others are strings or null). */
export const NUMERIC_FIELDS: ReadonlySet<string> = new Set(['points']);
