/**
 * Reading bodies as text and JSON without trusting them: Mautic's answers and the browser's hits
 * are bytes that may be anything, so a body that is not valid UTF-8, or JSON that is not an
 * object, is null here and the caller answers its own error.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text when they are valid UTF-8, else null. */
export function utf8Text(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The text as a JSON object (not an array, null or a scalar), or null. */
export function jsonObjectOfText(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The bytes as a JSON object, or null (not UTF-8, not JSON, not an object). */
export function jsonObjectOf(bytes: Uint8Array): Record<string, unknown> | null {
  const text = utf8Text(bytes);
  return text === null ? null : jsonObjectOfText(text);
}
