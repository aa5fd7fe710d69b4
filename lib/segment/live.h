/* Live segments (segment.h, "Live segments"): what the store calls around its writes.
 *
 * Locking: every write that can change a membership takes store->live_lock before the
 * store's write lock, evaluates the profiles it touched under the write lock (the
 * changes go to an outbox), releases the write lock, and calls back under the read lock
 * while still holding live_lock, so the outbox stays its own. A callback that writes to
 * the same store is refused (PERSONA_EMISUSE) through a thread-local mark. */
#ifndef PERSONA_SEGMENT_LIVE_H
#define PERSONA_SEGMENT_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "persona/store.h"

struct live_state;

/* PERSONA_EMISUSE (recorded) when called from a callback of this store, else 0. */
int persona__live_check_reentry(const persona_store *s);
/* Make room for per-profile state of `users` profiles and per-event links of `events`
 * events (before a write adds them). 0 or -1; nothing to do without live segments.
 * Caller holds the write lock. */
int persona__live_reserve(persona_store *s, size_t users, size_t events);
/* After identities moved (the store's epoch), re-evaluate everyone silently, before a
 * write applies its own changes (write lock held; room reserved). */
void persona__live_sync(persona_store *s);
/* After events [from, to) of the log were appended (write lock held): evaluate the
 * profiles they touched and the ones due at the new clock. */
void persona__live_after_events(persona_store *s, size_t from, size_t to);
/* After a host change to one profile (attribute, consent; write lock held): evaluate it
 * again, silently. */
void persona__live_after_change(persona_store *s, uint32_t root);
/* Host data of one profile changed outside a live update (consent set by an event rule,
 * which may then be rejected or its batch refused; write lock held): the next update
 * looks at it, evaluating every rule, and calls back what changed. */
void persona__live_touch(persona_store *s, uint32_t root);
/* Call back for the outbox (read lock held by the caller). PERSONA_OK or ECALLBACK. */
int persona__live_deliver(persona_store *s);
/* Release everything (persona_store_free). */
void persona__live_free(persona_store *s);
/* The store's clock (caller holds a lock). */
int64_t persona__store_clock(const persona_store *s);

#endif
