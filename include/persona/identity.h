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
 * Thread-safety: pure functions; any thread.
 */
#ifndef PERSONA_IDENTITY_H
#define PERSONA_IDENTITY_H

#include "common.h"

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

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_IDENTITY_H */
