/**
 * @file identity.h
 * @brief Identifiers of a person (cookie ids, emails, phone numbers, customer ids, host
 *        types) and their normalization, so that one person written two ways is one key.
 *
 * Normalization is what identity resolution applies before linking identifiers; hosts can
 * call it too, to store and look up keys the same way. Rules by type:
 * - #PERSONA_ID_EMAIL: surrounding white space trimmed, ASCII letters lower-cased (the
 *   local part too: mail systems treat it case-insensitively in practice); exactly one `@`
 *   with a non-empty local part and a domain of at least one dot-separated label, no
 *   spaces, no control characters.
 * - #PERSONA_ID_PHONE: spaces, `-`, `.`, `/` and parentheses dropped; a leading `+` or
 *   `00` starts an international number, otherwise one national trunk `0` is dropped and
 *   the default country code put in front; the result is E.164: `+` and 8 to 15 digits.
 * - every other type (#PERSONA_ID_KEY, #PERSONA_ID_COOKIE, #PERSONA_ID_CUSTOMER, and
 *   host-defined types from #PERSONA_ID_HOST up): surrounding white space trimmed, kept
 *   byte for byte otherwise.
 * The result is always valid UTF-8, not empty, at most #PERSONA_MAX_KEY_LEN bytes.
 *
 * Thread-safety: persona_identifier_normalize() is pure (any thread); the store functions
 * below state theirs.
 */
#ifndef PERSONA_IDENTITY_H
#define PERSONA_IDENTITY_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @name Identifier types */
/**@{*/
#define PERSONA_ID_KEY 0      /**< a store's user key as such */
#define PERSONA_ID_COOKIE 1   /**< an anonymous cookie or device id */
#define PERSONA_ID_EMAIL 2    /**< an email address */
#define PERSONA_ID_PHONE 3    /**< a phone number */
#define PERSONA_ID_CUSTOMER 4 /**< a customer or account id of the host */
#define PERSONA_ID_HOST 100   /**< first host-defined type (normalized like a cookie id) */
/**@}*/

/**
 * Normalize an identifier of a type (rules in the file comment).
 * @param[out] buf          receives the normalized identifier, NUL-terminated.
 * @param[in]  capacity     bytes at buf.
 * @param[out] out_len      its length without the NUL (also on #PERSONA_EBUFS); may be NULL.
 * @param[in]  type         a `PERSONA_ID_*` type (negative types are invalid).
 * @param[in]  value        the identifier as received (UTF-8).
 * @param[in]  country_code default country calling code for national phone numbers, as
 *                          digits ("33", "1"); may be NULL when numbers are international.
 * @return #PERSONA_OK; #PERSONA_EBUFS (buf too small; the length needed in out_len);
 *         #PERSONA_EINVAL (NULL value, negative type, invalid UTF-8, an email or phone
 *         number that is not one — the message says why — a national phone number without
 *         a country code, or nothing left after trimming).
 * @since 1.0
 */
PERSONA_API int persona_identifier_normalize(char *buf, size_t capacity, size_t *out_len,
                                             int32_t type, const char *value,
                                             const char *country_code);

/* ----------------------------------------------------------------------------------- */
/** @name The identity graph of a store
 *
 * Every user key of a store is an *identifier* (events name one). persona_store_alias()
 * links identifiers that belong to one person; their profiles merge into one, whose traits
 * are exactly those of one profile that had received all their events in arrival order
 * (recomputed from the event log; property names beyond the 64 the log keeps are the one
 * exception: their last values do not survive a merge). Attributes and consent records
 * stay attached to the identifier they were set through, so a merge loses nothing and
 * persona_store_unmerge() gives every part back its own: reading them through any
 * identifier of a profile gives, per name, the value set last (consent: the latest time,
 * then the later call). Opting out of tracking applies to the whole profile, and a merge
 * with an opted-out profile stays opted out.
 *
 * Every lookup by user key (profiles, traits, attributes, exports, erase) resolves the key
 * to its profile, so any identifier of a person reaches all of it.
 *
 * Guards, checked before every link and written to the merge log when they block it:
 * - blocked values: an identifier whose normalized value is on the list (ASCII case
 *   ignored) is never linked: by default "", "null", "undefined", "0", "anonymous",
 *   "none", "nan", "unknown"; hosts add more with persona_store_identity_block();
 * - per-type limits: a profile holds at most this many identifiers of a type (default:
 *   one #PERSONA_ID_EMAIL and one #PERSONA_ID_CUSTOMER, others unlimited); a link that
 *   would exceed a limit is blocked;
 * - priorities: persona_store_alias() links its identifiers in decreasing priority of
 *   their types (default #PERSONA_ID_CUSTOMER 50, #PERSONA_ID_EMAIL 40,
 *   #PERSONA_ID_PHONE 30, #PERSONA_ID_KEY 20, #PERSONA_ID_COOKIE 10, host types 0), each
 *   to an anchor: the highest-priority one the store already knows (else the
 *   highest-priority one). So when a limit blocks, a new identifier stays out rather
 *   than an existing profile losing one, and among new ones the lower-priority one stays
 *   out. The profile is named after its highest-priority identifier, the oldest among
 *   equals (persona_store_resolve()).
 * Guard settings are saved in snapshots.
 */
/**@{*/

/** One identifier of a person, as received (normalized by its type before use). */
typedef struct persona_identifier {
    uint32_t struct_size; /**< sizeof(persona_identifier). @since 1.0 */
    int32_t type;         /**< a `PERSONA_ID_*` type. @since 1.0 */
    const char *value;    /**< the identifier (UTF-8). @since 1.0 */
} persona_identifier;

/** Initializer for #persona_identifier: `PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "a@b.org")`. */
#define PERSONA_IDENTIFIER(type, value) { sizeof(persona_identifier), (type), (value) }

/** @name Outcomes of one link (persona_alias_result::outcome, the merge log's "outcome") */
/**@{*/
#define PERSONA_LINK_MERGED 1        /**< two profiles became one */
#define PERSONA_LINK_ADDED 2         /**< a new identifier joined a profile */
#define PERSONA_LINK_SAME 3          /**< both identifiers already were one profile */
#define PERSONA_LINK_BLOCKED_VALUE 4 /**< an identifier is on the blocked-values list */
#define PERSONA_LINK_BLOCKED_LIMIT 5 /**< the merged profile would exceed a per-type limit */
/**@}*/

/** What persona_store_alias() did: one count per outcome of its links. */
typedef struct persona_alias_result {
    uint32_t struct_size;     /**< sizeof(persona_alias_result). @since 1.0 */
    int32_t outcome;          /**< outcome of the last link that was not #PERSONA_LINK_SAME
                                   (or SAME when all were). @since 1.0 */
    uint32_t merged;          /**< links that merged two profiles. @since 1.0 */
    uint32_t added;           /**< links that added a new identifier. @since 1.0 */
    uint32_t same;            /**< links within one profile already. @since 1.0 */
    uint32_t blocked;         /**< links a guard blocked (reasons in the merge log). @since 1.0 */
    int32_t blocked_type;     /**< identifier type of the last blocked link. @since 1.0 */
    uint32_t reserved;        /**< 0. @since 1.0 */
    uint64_t events_replayed; /**< events whose traits were recomputed. @since 1.0 */
} persona_alias_result;

/** Initializer for #persona_alias_result. */
#define PERSONA_ALIAS_RESULT_INIT { sizeof(persona_alias_result), 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Prepare a result for persona_store_alias() (struct_size set, the rest 0).
 * @param[out] result      the struct.
 * @param[in]  struct_size sizeof(persona_alias_result) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_alias_result_init(persona_alias_result *result, uint32_t struct_size);

/**
 * Link identifiers of one person. Each is normalized by its type (the store's default
 * country code for national phone numbers, persona_store_identity_country()), then they
 * are linked in decreasing priority, each to the anchor (see the guards above).
 * Identifiers the store has not seen become new identifiers of that profile; linking two
 * existing profiles merges them and recomputes the merged traits from the event log. Every link, blocked or not, is written to the merge log with `at_ms` and
 * `source`. A guard blocking a link is not an error: the call returns #PERSONA_OK and
 * counts it in the result.
 * An identifier keeps the type it was first given; a user key first seen in events has
 * type #PERSONA_ID_KEY and takes the type of the first alias that names it, unless its
 * profile already holds as many identifiers of that type as the limit allows (then it
 * stays a key).
 * Cost: proportional to the events of the merged profiles (they are replayed).
 * All or nothing: on an error nothing changed.
 * Thread-safety: a writer (takes the store's write lock).
 * @param[out] result_out what happened (may be NULL); its struct_size must be set.
 * @param[in]  store      the store.
 * @param[in]  ids        the identifiers (at least 2).
 * @param[in]  count      how many.
 * @param[in]  at_ms      when the link was observed (ms since the epoch), for the log.
 * @param[in]  source     who or what linked them ("login", "crm-import"; may be NULL).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store or ids, count < 2, an identifier that
 *         does not normalize, one already known under another non-key type, a source that
 *         is not a valid key, a time out of range; the message says which);
 *         #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_store_alias(persona_alias_result *result_out, persona_store *store,
                                    const persona_identifier *ids, size_t count, int64_t at_ms,
                                    const char *source);

/**
 * Split a wrongly merged profile: every link of the merge log that involves `id` is marked
 * undone, the profile's identifiers are regrouped by the links that remain, and each
 * resulting profile's traits are recomputed from the event log, so that each part is
 * exactly what it would be had the undone links never been made. Attributes and consent
 * stay with the identifiers they were set through; opting out stays on every part.
 * Thread-safety: a writer (takes the store's write lock).
 * @param[out] parts_out number of profiles the profile became (1 when `id` had no links);
 *                       may be NULL.
 * @param[in]  store     the store.
 * @param[in]  id        the identifier to split off (normalized by its type).
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_ENOMEM (nothing changed);
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_unmerge(uint32_t *parts_out, persona_store *store,
                                      const persona_identifier *id);

/**
 * The key naming the profile of an identifier: its highest-priority identifier (the
 * earliest one among equals).
 * Thread-safety: a reader.
 * @param[out] buf      receives the key, NUL-terminated.
 * @param[in]  capacity bytes at buf.
 * @param[out] out_len  its length (also on #PERSONA_EBUFS); may be NULL.
 * @param[in]  store    the store.
 * @param[in]  user     any identifier of the profile, as stored (normalized).
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_EBUFS; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_resolve(char *buf, size_t capacity, size_t *out_len,
                                      const persona_store *store, const char *user);

/**
 * The merge log, as JSON: an array of the links made or blocked, oldest first, each
 * `{"seq":N,"time":"…","source":"…"|null,"a":{"type":"email","id":"…"},
 * "b":{"type":…,"id":…},"outcome":"merged"|"added"|"same"|"blocked-value"|"blocked-limit",
 * "limit_type":"email" (blocked-limit only),"undone":true (after persona_store_unmerge())}`.
 * With `user` set, only the links of that user's profile (either side an identifier of it).
 * Type names: key, cookie, email, phone, customer, or the number of a host type.
 * Thread-safety: a reader.
 * @param[out] out     NUL-terminated JSON owned by the caller (persona_free()).
 * @param[out] out_len its length; may be NULL.
 * @param[in]  store   the store.
 * @param[in]  user    an identifier, or NULL for the whole log.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_merge_log(char **out, size_t *out_len, const persona_store *store,
                                        const char *user);

/**
 * Set how many identifiers of a type one profile may hold (0 = unlimited). Applies to
 * links made from now on; profiles already over the new limit stay as they are.
 * Thread-safety: a writer.
 * @param[in] store the store.
 * @param[in] type  a `PERSONA_ID_*` type (not negative).
 * @param[in] max   the limit, 0 for none.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store, negative type); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_store_identity_limit(persona_store *store, int32_t type, uint32_t max);

/**
 * Set the priority of an identifier type (higher links first and names the profile).
 * Existing profiles keep their name until a link or unmerge next recomputes them.
 * Thread-safety: a writer.
 * @param[in] store    the store.
 * @param[in] type     a `PERSONA_ID_*` type (not negative).
 * @param[in] priority any value; higher wins.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store, negative type); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_store_identity_priority(persona_store *store, int32_t type,
                                                int32_t priority);

/**
 * Add a value to the blocked-values list (compared with normalized identifiers, ASCII
 * case ignored), e.g. a placeholder email a form fills in. The store keeps a copy.
 * Thread-safety: a writer.
 * @param[in] store the store.
 * @param[in] value the value (trimmed and lower-cased before it is kept).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store or value, value longer than
 *         #PERSONA_MAX_KEY_LEN or not UTF-8); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_store_identity_block(persona_store *store, const char *value);

/**
 * Set the default country calling code for national phone numbers ("49"; NULL or "" for
 * none: national numbers are then refused).
 * Thread-safety: a writer.
 * @param[in] store the store.
 * @param[in] code  1 to 3 digits, or NULL / "".
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store; not 1 to 3 digits).
 * @since 1.0
 */
PERSONA_API int persona_store_identity_country(persona_store *store, const char *code);

/**
 * Make events link identifiers: every event of type `event_type` whose property
 * `prop_name` holds a value links its user key (as #PERSONA_ID_KEY) with that value as an
 * identifier of type `id_type`, as persona_store_alias() would (at the event's time, source
 * "event:<type>"); several rules for one event type make one call with every identifier
 * the event carries. Such an event is also stored as an ordinary event. One whose
 * identifier does not normalize (or is known under another type) is rejected with
 * #PERSONA_REJECT_BAD_IDENTIFIER and links nothing; events of opted-out users link
 * nothing. Rules are saved in snapshots. Events repeat their links (every login
 * identifies again): a link within one profile already, or a block already logged for the
 * same identifiers, is not logged again.
 * Ingest applies the links of a batch before its events. In strict mode a batch refused
 * for a bad event (a bad field, a bad rule property, a duplicate event id) makes no link
 * and no consent setting. Under #PERSONA_ENOMEM, and in strict mode when an identifier is
 * found to be known under another type only while linking, the call fails with none of the
 * batch's events applied, but links made before the failure stay: links are idempotent,
 * so the batch can simply be ingested again.
 * Thread-safety: a writer.
 * @param[in] store      the store.
 * @param[in] event_type the event type ("identify").
 * @param[in] prop_name  the property holding the identifier ("email").
 * @param[in] id_type    its `PERSONA_ID_*` type.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store, bad strings, negative type, the same
 *         event type and property given twice); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_store_identify_rule(persona_store *store, const char *event_type,
                                            const char *prop_name, int32_t id_type);

/**@}*/

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_IDENTITY_H */
