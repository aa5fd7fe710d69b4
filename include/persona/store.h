/**
 * @file store.h
 * @brief The profile store: profiles with incrementally maintained traits, typed
 *        attributes, consent, and a compact columnar event log.
 *
 * Lifecycle: persona_store_new() creates an empty store, persona_store_open() one saved
 * with persona_store_save() (a snapshot file, docs/file-format.md); persona_store_free()
 * destroys it.
 * Events arrive with persona_store_ingest() (an array of events) or persona_store_load()
 * (a #persona_source, source.h). Each batch is validated event by event: a bad event is
 * counted by reason in #persona_ingest_stats and skipped, the good ones are applied. A batch
 * is applied atomically with respect to allocation failure: on #PERSONA_ENOMEM none of it
 * is applied and the store is exactly as before the call.
 *
 * Traits kept per profile (updated in O(1) amortized per event, exact whatever the
 * arrival order): first and last seen, number of events, events and value per event type,
 * total value, orders (distinct basket ids), sessions (runs of events separated by more
 * than the inactivity gap), the last value of every named property (referrer, country,
 * device, campaign, …: the value on the latest event carrying it; on equal times the
 * later arrival wins), and per-category engagement: the sum over the profile's events with
 * that `category` of 2^(-age / half-life).
 *
 * Identity: user keys are identifiers that persona_store_alias() (identity.h) can link
 * into one profile; every lookup by key reaches the profile of that key.
 *
 * Limits: keys and property values up to #PERSONA_MAX_KEY_LEN bytes; at most 2^32 - 2
 * events, users, items, event types.
 *
 * Thread-safety: concurrent. Any functions may be called on one store from any threads at
 * once (a reader never sees a half-applied batch), except persona_store_free(), which must
 * not race with any other call on the same store.
 */
#ifndef PERSONA_STORE_H
#define PERSONA_STORE_H

#include "common.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of persona_store_new(). Zero means default for every field. */
typedef struct persona_store_options {
    uint32_t struct_size;       /**< sizeof(persona_store_options). @since 1.0 */
    uint32_t flags;             /**< reserved, must be 0. @since 1.0 */
    int64_t session_gap_ms;     /**< inactivity gap that starts a new session; 0 = 30 min. @since 1.0 */
    int64_t decay_half_life_ms; /**< half-life of category engagement; 0 = 30 days. @since 1.0 */
    uint64_t hash_seed;         /**< seed of the keyed hash; 0 = random per store. @since 1.0 */
} persona_store_options;

/** Designated initializer for #persona_store_options. */
#define PERSONA_STORE_OPTIONS_INIT { sizeof(persona_store_options), 0, 0, 0, 0 }

/**
 * Initialize options to their defaults (for bindings that cannot use the macro).
 * @param[out] opts        the options.
 * @param[in]  struct_size sizeof(persona_store_options) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a struct_size this library cannot serve.
 * @since 1.0
 */
PERSONA_API int persona_store_options_init(persona_store_options *opts, uint32_t struct_size);

/**
 * Create an empty store.
 * @param[out] out  the new store; NULL on failure.
 * @param[in]  opts options, or NULL for defaults.
 * @return #PERSONA_OK; #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL out, negative gap or half-life,
 *         bad struct_size); #PERSONA_EUNSUPPORTED (options newer than this library, set).
 * @since 1.0
 */
PERSONA_API int persona_store_new(persona_store **out, const persona_store_options *opts);

/**
 * Destroy a store and everything it holds.
 * @param[in] store the store, or NULL (no-op). Must not race with other calls on it.
 * @since 1.0
 */
PERSONA_API void persona_store_free(persona_store *store);

/**
 * Validate, deduplicate and apply an array of events.
 * @param[out] stats_out what happened (may be NULL); its struct_size must be set. Counts
 *                       are for this call only. Example lines are 1-based event indexes.
 * @param[in]  store     the store.
 * @param[in]  events    the events (borrowed for the call).
 * @param[in]  count     number of events (0 is fine).
 * @param[in]  opts      options, or NULL for defaults.
 * @return #PERSONA_OK (bad events counted, good ones applied); #PERSONA_EPARSE in strict
 *         mode at the first bad event (nothing applied, position = its index + 1);
 *         #PERSONA_ENOMEM (nothing applied); #PERSONA_EINVAL (NULL store, NULL events with
 *         count > 0, bad struct_size in an event or the options).
 * @since 1.0
 */
PERSONA_API int persona_store_ingest(persona_ingest_stats *stats_out, persona_store *store,
                                     const persona_event *events, size_t count,
                                     const persona_ingest_options *opts);

/** Sizes and accounting of a store. Filled by the library up to the caller's struct_size. */
typedef struct persona_store_info {
    uint32_t struct_size;   /**< set by the caller: sizeof(persona_store_info). @since 1.0 */
    uint32_t reserved;      /**< 0. @since 1.0 */
    uint64_t users;         /**< profiles. @since 1.0 */
    uint64_t events;        /**< events in the log. @since 1.0 */
    uint64_t event_types;   /**< distinct event types. @since 1.0 */
    uint64_t items;         /**< distinct items. @since 1.0 */
    uint64_t baskets;       /**< distinct basket ids. @since 1.0 */
    int64_t first_time_ms;  /**< earliest event time (0 when no events). @since 1.0 */
    int64_t last_time_ms;   /**< latest event time (0 when no events). @since 1.0 */
    uint64_t bytes_events;  /**< memory held for the event log and dedup ids. @since 1.0 */
    uint64_t bytes_profiles; /**< memory held for profiles and their traits, without attributes. @since 1.0 */
    uint64_t bytes_total;   /**< all memory held by the store. @since 1.0 */
} persona_store_info;

/** Initializer for #persona_store_info (struct_size set, the rest 0). */
#define PERSONA_STORE_INFO_INIT { sizeof(persona_store_info), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Prepare an info struct for persona_store_info_get() (struct_size set, the rest 0).
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof(persona_store_info) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_store_info_init(persona_store_info *info, uint32_t struct_size);

/**
 * Sizes and memory accounting.
 * @param[out] out   the info; its struct_size must be set.
 * @param[in]  store the store.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_info_get(persona_store_info *out, const persona_store *store);

/**
 * Key of the user at an index; users are numbered 0..users-1 in order of first appearance.
 * @param[out] buf      destination, NUL-terminated on success (may be NULL if capacity is 0).
 * @param[in]  capacity size of buf.
 * @param[out] out_len  length of the key (without NUL), also on #PERSONA_EBUFS; may be NULL.
 * @param[in]  store    the store.
 * @param[in]  index    the index.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (index out of range); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_user_at(char *buf, size_t capacity, size_t *out_len,
                                      const persona_store *store, uint64_t index);

/**
 * Name of the event type at an index (0..event_types-1, order of first appearance).
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  store the store.
 * @param[in]  index the index.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_event_type_at(char *buf, size_t capacity, size_t *out_len,
                                            const persona_store *store, uint64_t index);

/** The scalar traits of one profile. Filled by the library up to the caller's struct_size. */
typedef struct persona_profile_info {
    uint32_t struct_size;  /**< set by the caller: sizeof(persona_profile_info). @since 1.0 */
    uint32_t reserved;     /**< 0. @since 1.0 */
    uint64_t events;       /**< events of this user. @since 1.0 */
    int64_t first_seen_ms; /**< earliest event time (0 when no events). @since 1.0 */
    int64_t last_seen_ms;  /**< latest event time (0 when no events). @since 1.0 */
    double value_sum;      /**< sum of event values. @since 1.0 */
    uint64_t orders;       /**< distinct basket ids. @since 1.0 */
    uint64_t sessions;     /**< sessions under the store's inactivity gap. @since 1.0 */
    uint64_t event_types;  /**< distinct event types of this user. @since 1.0 */
    uint64_t attributes;   /**< host-set attributes. @since 1.0 */
} persona_profile_info;

/** Initializer for #persona_profile_info (struct_size set, the rest 0). */
#define PERSONA_PROFILE_INFO_INIT { sizeof(persona_profile_info), 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Prepare a profile info struct for persona_store_profile_get() (struct_size set, the rest 0).
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof(persona_profile_info) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_profile_info_init(persona_profile_info *info, uint32_t struct_size);

/**
 * Scalar traits of one profile.
 * @param[out] out   the info; its struct_size must be set.
 * @param[in]  store the store.
 * @param[in]  user  the user key.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (no such user); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_profile_get(persona_profile_info *out, const persona_store *store,
                                          const char *user);

/**
 * Number of events and value of one event type for one user.
 * @param[out] count_out events of that type (0 if the user never had it); may be NULL.
 * @param[out] value_out their summed value; may be NULL.
 * @param[in]  store     the store.
 * @param[in]  user      the user key.
 * @param[in]  type      the event type.
 * @return #PERSONA_OK (also when the type is unknown: counts 0); #PERSONA_ENOTFOUND (no such
 *         user); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_profile_type(uint64_t *count_out, double *value_out,
                                           const persona_store *store, const char *user,
                                           const char *type);

/**
 * Last value of a named property of a user (e.g. "referrer", "country", "device").
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[out] time_out time of the event it came from; may be NULL.
 * @param[in]  store    the store.
 * @param[in]  user     the user key.
 * @param[in]  name     the property name.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (no such user, or the user never
 *         had that property); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_profile_last(char *buf, size_t capacity, size_t *out_len,
                                           int64_t *time_out, const persona_store *store,
                                           const char *user, const char *name);

/**
 * Engagement of a user with a category at a given time: the sum over the user's events
 * whose `category` property is that category of 2^(-(at_ms - t) / half-life) (events after
 * at_ms count with weight above 1).
 * @param[out] out   the engagement (0 when the user never had the category).
 * @param[in]  store the store.
 * @param[in]  user  the user key.
 * @param[in]  category the category.
 * @param[in]  at_ms the time of evaluation.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (no such user); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_profile_engagement(double *out, const persona_store *store,
                                                 const char *user, const char *category,
                                                 int64_t at_ms);

/** @name Host-set typed attributes (demographic, psychographic, CRM fields).
 * Setting an attribute of an unknown user creates an empty profile (0 events). */
/**@{*/

/**
 * Set a numeric attribute.
 * @param[in] store the store. @param[in] user the user key. @param[in] name the attribute
 * name (non-empty UTF-8). @param[in] value a finite number.
 * @return #PERSONA_OK; #PERSONA_ENOMEM (nothing changed); #PERSONA_EINVAL (NULL, empty or
 *         invalid UTF-8 key or name, too long, non-finite value).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_set_num(persona_store *store, const char *user,
                                           const char *name, double value);
/**
 * Set a string attribute (copied).
 * @param[in] store the store. @param[in] user the user key. @param[in] name the attribute
 * name. @param[in] value valid UTF-8 of at most #PERSONA_MAX_KEY_LEN bytes (may be "").
 * @return #PERSONA_OK; #PERSONA_ENOMEM (nothing changed); #PERSONA_EINVAL (NULL, empty or
 *         invalid key or name, invalid or too long value).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_set_str(persona_store *store, const char *user,
                                           const char *name, const char *value);
/**
 * Set a boolean attribute.
 * @param[in] store the store. @param[in] user the user key. @param[in] name the attribute
 * name. @param[in] value any non-zero value is true.
 * @return #PERSONA_OK; #PERSONA_ENOMEM (nothing changed); #PERSONA_EINVAL (NULL, empty or
 *         invalid key or name).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_set_bool(persona_store *store, const char *user,
                                            const char *name, int32_t value);
/**
 * Set a time attribute.
 * @param[in] store the store. @param[in] user the user key. @param[in] name the attribute
 * name. @param[in] value ms since the epoch, UTC, in [#PERSONA_TIME_MIN, #PERSONA_TIME_MAX].
 * @return #PERSONA_OK; #PERSONA_ENOMEM (nothing changed); #PERSONA_EINVAL (NULL, empty or
 *         invalid key or name, time out of range).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_set_time(persona_store *store, const char *user,
                                            const char *name, int64_t value);
/**
 * Set an attribute to the explicit null value (it exists, with type #PERSONA_NULL).
 * @param[in] store the store. @param[in] user the user key. @param[in] name the attribute name.
 * @return #PERSONA_OK; #PERSONA_ENOMEM (nothing changed); #PERSONA_EINVAL (NULL, empty or
 *         invalid key or name).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_set_null(persona_store *store, const char *user,
                                            const char *name);
/**
 * Remove an attribute.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (no such user or attribute); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_attr_remove(persona_store *store, const char *user,
                                          const char *name);

/**
 * Type of an attribute.
 * @param[out] out one of PERSONA_NULL, _NUM, _STR, _BOOL, _TIME.
 * @param[in] store the store. @param[in] user the user key. @param[in] name the name.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (no such user or attribute); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_attr_type(int32_t *out, const persona_store *store,
                                        const char *user, const char *name);
/**
 * Read a numeric attribute.
 * @param[out] out the value.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_EINVAL (also when the attribute has
 *         another type: the message names it).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_get_num(double *out, const persona_store *store,
                                           const char *user, const char *name);
/**
 * Read a string attribute into a caller buffer.
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND; #PERSONA_EINVAL (wrong type).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_get_str(char *buf, size_t capacity, size_t *out_len,
                                           const persona_store *store, const char *user,
                                           const char *name);
/**
 * Read a boolean attribute (0 or 1).
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_EINVAL (wrong type).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_get_bool(int32_t *out, const persona_store *store,
                                            const char *user, const char *name);
/**
 * Read a time attribute.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_EINVAL (wrong type).
 * @since 1.0
 */
PERSONA_API int persona_store_attr_get_time(int64_t *out, const persona_store *store,
                                            const char *user, const char *name);
/**@}*/

/**
 * Record consent (or its withdrawal) for a purpose ("analytics", "personalization",
 * "marketing" or a host-defined name). Stored and queryable; gating of builders and
 * decisions by consent comes with the privacy features. Creates the profile if needed.
 * The latest call wins, whatever its time_ms (consent is a state the host sets, not an
 * event stream).
 * @param[in] store   the store.
 * @param[in] user    the user key.
 * @param[in] purpose the purpose (non-empty UTF-8).
 * @param[in] granted non-zero = granted, 0 = denied / withdrawn.
 * @param[in] time_ms when it was given or withdrawn.
 * @return #PERSONA_OK; #PERSONA_ENOMEM (nothing changed); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_consent_set(persona_store *store, const char *user,
                                          const char *purpose, int32_t granted, int64_t time_ms);

/**
 * Read consent for a purpose.
 * @param[out] granted_out 1 granted, 0 denied; may be NULL.
 * @param[out] time_out    when it was recorded; may be NULL.
 * @param[in]  store, user, purpose as for persona_store_consent_set().
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (no such user, or never recorded); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_consent_get(int32_t *granted_out, int64_t *time_out,
                                          const persona_store *store, const char *user,
                                          const char *purpose);

/** @name Export formats. */
/**@{*/
/** CSV, one row per user sorted by key (keys that are plain decimal integers first, in
 * numeric order, then the rest bytewise): `user_id,events,<count per event type, types
 * sorted bytewise>…,value_sum,first_ts,last_ts`. Times `YYYY-MM-DD HH:MM:SS[.fff]` UTC. */
#define PERSONA_EXPORT_PROFILES_CSV 1
/** JSON Lines, one object per user in the same order, with every trait, attribute and
 * consent: `{"user_id", "events", "first_seen", "last_seen" (absent with 0 events),
 * "value_sum", "orders", "sessions", "types": {TYPE: {"count", "value", "last" (time of the latest)}},
 * "last": {PROPERTY: {"value", "time"}}, "engagement": {CATEGORY: score at the user's last
 * event}, "attributes": {NAME: number | string | bool | time string | null},
 * "consent": {PURPOSE: {"granted", "time"}}}`. Times are `YYYY-MM-DD HH:MM:SS[.fff]` UTC;
 * numbers are written in their shortest round-trip form (a whole number has no decimal
 * point); strings are escaped so the JSON is safe inside HTML (`<`, `>`, `&` as \u00XX). */
#define PERSONA_EXPORT_PROFILES_JSONL 2
/**@}*/

/**
 * Export every profile.
 * @param[in] store  the store (a consistent view: ingest waits until the export is done;
 *                   so `write` must not ingest into or change this store — it would wait
 *                   for itself).
 * @param[in] format #PERSONA_EXPORT_PROFILES_CSV or #PERSONA_EXPORT_PROFILES_JSONL.
 * @param[in] write  called with consecutive pieces of the output, on the calling thread.
 * @param[in] ctx    passed to write.
 * @return #PERSONA_OK; #PERSONA_ECALLBACK (write failed); #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_export(const persona_store *store, int32_t format,
                                     persona_write_fn write, void *ctx);

/**
 * Export every profile into one buffer.
 * @param[out] out     a NUL-terminated buffer owned by the caller, released with
 *                     persona_free(); NULL on failure.
 * @param[out] out_len its length without the NUL; may be NULL.
 * @param[in]  store, format as for persona_store_export().
 * @return #PERSONA_OK; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_export_buffer(char **out, size_t *out_len,
                                            const persona_store *store, int32_t format);

/**
 * Everything held about one user as one JSON object (the same object as in the JSONL
 * export): `user_id` is the key naming the user's profile (persona_store_resolve()),
 * followed by `identifiers` (`[{"type":"email","id":…},…]`, in the order they became
 * known) when the profile has more than its key or a typed identifier; attributes and
 * consent are those of every identifier, the latest setting of each name winning.
 * @param[out] out     NUL-terminated JSON owned by the caller (persona_free()); NULL on failure.
 * @param[out] out_len its length; may be NULL.
 * @param[in]  store   the store.
 * @param[in]  user    the user key.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_profile_json(char **out, size_t *out_len,
                                           const persona_store *store, const char *user);

/** What persona_store_erase() removed. Filled by the library up to the caller's struct_size. */
typedef struct persona_erase_receipt {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_erase_receipt). @since 1.0 */
    uint32_t reserved;    /**< 0. @since 1.0 */
    uint64_t events;      /**< events removed from the log. @since 1.0 */
    uint64_t identifiers; /**< identifiers removed: every identifier of the person's profile (identity.h), plus, when anonymizing, the ids of their events. @since 1.0 */
    uint64_t attributes;  /**< attributes removed. @since 1.0 */
    uint64_t consents;    /**< consent records removed. @since 1.0 */
    uint64_t stale_models; /**< models built from this store that still hold the person (none exist yet: 0). @since 1.0 */
} persona_erase_receipt;

/** Initializer for #persona_erase_receipt (struct_size set, the rest 0). */
#define PERSONA_ERASE_RECEIPT_INIT { sizeof(persona_erase_receipt), 0, 0, 0, 0, 0, 0 }

/**
 * Prepare a receipt for persona_store_erase() (struct_size set, the rest 0).
 * @param[out] receipt     the struct.
 * @param[in]  struct_size sizeof(persona_erase_receipt) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_erase_receipt_init(persona_erase_receipt *receipt, uint32_t struct_size);

/**
 * Erase a person (GDPR art. 17): the profile with every identifier linked to it
 * (identity.h) and every link of the merge log that names one of them, its traits,
 * attributes, consent records, every event of the person, the ids of those events (so
 * the same ids are new again), and every string only this person held (items, baskets,
 * property values, names, event types, merge-log sources). Afterwards the user is #PERSONA_ENOTFOUND and the store equals one that never
 * saw the user; neither exports nor the next snapshot contain anything of theirs. Done
 * synchronously by rebuilding the store without the person: time and, for the duration,
 * memory proportional to the store. All or nothing: on #PERSONA_ENOMEM nothing changed.
 * Thread-safety: takes the store's write lock for the duration.
 * @param[out] receipt_out what was removed (may be NULL); its struct_size must be set.
 * @param[in]  store       the store.
 * @param[in]  user        the user key.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (no such user); #PERSONA_ENOMEM;
 *         #PERSONA_EINVAL (NULL store, bad user key or receipt struct_size).
 * @since 1.0
 */
PERSONA_API int persona_store_erase(persona_erase_receipt *receipt_out, persona_store *store,
                                    const char *user);

/** Length of the keys persona_store_anonymize() gives: "anon-" and 16 hex digits. */
#define PERSONA_ANON_KEY_LEN 21

/**
 * Anonymize a person: their behaviour stays (events, traits, counts, numeric, boolean,
 * time and null attributes, consent) under a new random key `anon-<16 hex digits>`, while
 * what identifies them goes: every identifier of their profile (each #PERSONA_ENOTFOUND
 * afterwards; the new key is the profile's only identifier) with the merge-log links
 * naming them, the ids of their events (new again for deduplication), property values of
 * their events that spell one of their identifiers (an identify event's email), and their
 * string attributes, with every string only those held. Of attributes and consent set through
 * several identifiers, the latest setting of each name stays. Like persona_store_erase(),
 * done by rebuilding the store: all or nothing.
 * Thread-safety: takes the store's write lock for the duration.
 * @param[out] buf         receives the new key (NUL-terminated), or NULL with capacity 0
 *                         when the caller does not want it.
 * @param[in]  capacity    bytes at buf: at least #PERSONA_ANON_KEY_LEN + 1.
 * @param[out] out_len     #PERSONA_ANON_KEY_LEN (may be NULL).
 * @param[out] receipt_out what was removed (may be NULL): identifiers (the person's
 *                         identifiers and event ids), attributes; events and consents stay (0).
 * @param[in]  store       the store.
 * @param[in]  user        the user key.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_EBUFS (buf too small, nothing done);
 *         #PERSONA_ENOMEM (nothing done); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_anonymize(char *buf, size_t capacity, size_t *out_len,
                                        persona_erase_receipt *receipt_out,
                                        persona_store *store, const char *user);

/**
 * Everything held about one person, for a data access or portability request (GDPR art.
 * 15 and 20): one JSON object
 * `{"format":"persona-person-1","profile":{…},"events":[…][,"merge_log":[…]]}` where
 * `profile` is the object of persona_store_profile_json() (identifiers, traits, per-type
 * counts, last property values, engagement, attributes, consent), `events` every stored
 * event of the person (through any of their identifiers) in arrival order, each
 * `{"time","type"[,"item"][,"basket"][,"id"][,"value"][,"props":{…}]}` (properties as kept
 * in the event log: the first 64 property names of the store), and `merge_log`, when
 * there is any, the links naming their identifiers (persona_store_merge_log()).
 * Thread-safety: a reader (concurrent with everything but persona_store_free()).
 * @param[out] out     NUL-terminated JSON owned by the caller (persona_free()); NULL on failure.
 * @param[out] out_len its length; may be NULL.
 * @param[in]  store   the store.
 * @param[in]  user    the user key.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_export_profile(char **out, size_t *out_len,
                                             const persona_store *store, const char *user);

/**
 * Make events set consent: every event of type `event_type` sets the consent of its user
 * for the purpose named by its property `purpose_prop` to the value of its property
 * `granted_prop` (yes/no: "true"/"false", "yes"/"no", "1"/"0", "granted"/"denied",
 * "opt-in"/"opt-out", ASCII case ignored) at the event's time, as persona_store_consent_set()
 * would. The event is also stored as an ordinary event; one without a purpose or with
 * another granted value is rejected with #PERSONA_REJECT_BAD_CONSENT. Ingest applies
 * the settings of a batch before its events (see persona_store_identify_rule() for what
 * #PERSONA_ENOMEM leaves). Rules are saved in snapshots.
 * Thread-safety: a writer.
 * @param[in] store        the store.
 * @param[in] event_type   the event type ("consent").
 * @param[in] purpose_prop the property naming the purpose ("purpose").
 * @param[in] granted_prop the property holding yes or no ("granted").
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or bad strings, a second rule for the type);
 *         #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_store_consent_rule(persona_store *store, const char *event_type,
                                           const char *purpose_prop, const char *granted_prop);

/**
 * Stop or resume collecting events for a person (do-not-track). While tracking is off,
 * their events are not stored: ingest and loads count them under
 * #PERSONA_REJECT_SUPPRESSED (never an error, even in strict mode). What was collected
 * before stays (persona_store_erase() removes it). Turning tracking off for an unknown user
 * creates their profile, so a person can opt out before their first event. The setting is
 * saved in snapshots.
 * Thread-safety: a writer (takes the store's write lock).
 * @param[in] store    the store.
 * @param[in] user     the user key.
 * @param[in] tracking 0 = stop collecting, nonzero = collect again.
 * @return #PERSONA_OK; #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL store, bad user key).
 * @since 1.0
 */
PERSONA_API int persona_store_set_tracking(persona_store *store, const char *user,
                                           int32_t tracking);

/**
 * Whether events of a person are collected (see persona_store_set_tracking()).
 * Thread-safety: a reader (concurrent with everything but persona_store_free()).
 * @param[out] tracking_out 1 = collected (the default), 0 = opted out.
 * @param[in]  store        the store.
 * @param[in]  user         the user key.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_get_tracking(int32_t *tracking_out, const persona_store *store,
                                           const char *user);

/**
 * Save the store to a snapshot file (format: docs/file-format.md). The file is written
 * next to path under a temporary name, flushed to disk (fsync), renamed over path and the
 * directory flushed: if the process or the machine dies at any point, path holds either
 * the previous snapshot or the new one, never a mix. On failure path is untouched and the
 * temporary file removed.
 * Thread-safety: holds the store's read lock while writing: queries go on, ingest and
 * other changes wait until the file is written.
 * @param[in] store the store.
 * @param[in] path  the file to create or replace; its directory must exist.
 * @return #PERSONA_OK; #PERSONA_EIO (the message names the path, the step and the system
 *         error); #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL argument).
 * @since 1.0
 */
PERSONA_API int persona_store_save(const persona_store *store, const char *path);

/**
 * Open a store saved with persona_store_save(). The new store equals the saved one
 * (profiles, traits, attributes, consent, event log, options) and gets a fresh random
 * hash seed. Every field of the file is checked: a damaged file never gives a store.
 * Peak memory is about the store's size plus a fixed buffer.
 * Thread-safety: any thread; the store is the caller's alone until returned.
 * @param[out] out  the store; NULL on failure.
 * @param[in]  path the snapshot file.
 * @return #PERSONA_OK; #PERSONA_EIO (cannot open or read; message: path, step, error);
 *         #PERSONA_ECORRUPT (damaged, truncated or not a store snapshot; the message names
 *         the section and the byte offset); #PERSONA_EVERSION (written by a newer
 *         libpersona); #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL argument).
 * @since 1.0
 */
PERSONA_API int persona_store_open(persona_store **out, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_STORE_H */
