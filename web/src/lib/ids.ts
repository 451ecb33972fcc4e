const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a record id from a link or a query string is a UUID, checked before it reaches the API. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
