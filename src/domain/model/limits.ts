/**
 * What one tenant may send, bounded (README "Limits and timeouts"): a tenant key must not be able
 * to make the gateway slower for others by sending many, long or deeply varied names. Each limit
 * is a 400 that names the field; the read models never see more than these bounds allow.
 */

/** Longest field name in feedback (`final`'s keys, `overrides[].field`) and in `trackedFields`. */
export const MAX_FIELD_NAME_LENGTH = 256;

/** Most distinct top-level fields one feedback may name (`final`'s keys, `overrides` entries). */
export const MAX_FEEDBACK_FIELDS = 1000;

/** Most entries in a chain's `trackedFields`. */
export const MAX_TRACKED_FIELDS = 100;

/**
 * Without `trackedFields`, at most this many changed fields of one feedback are counted by name
 * in the read models (the ones the AI's output has, in sorted order); the rest count as OTHER_FIELD.
 */
export const MAX_COUNTED_FIELDS_PER_FEEDBACK = 50;

/** The one bucket that counts every changed field not counted by name. */
export const OTHER_FIELD = '$other';

/** Largest `metadata` of a call, as JSON text (UTF-8 bytes). */
export const MAX_METADATA_BYTES = 16 * 1024;
