/**
 * Replaces `obj[name]`. Some base libraries report wx members as non-writable, so this defines the
 * property instead of assigning, and says whether the replacement took.
 */
export function replace(obj: object, name: string, value: unknown): boolean {
  try {
    Object.defineProperty(obj, name, { value, configurable: true, writable: true, enumerable: true })
  } catch {
    // Non-configurable: fall through to the check.
  }
  return (obj as Record<string, unknown>)[name] === value
}
