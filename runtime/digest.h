/* digest.h - SHA-256 as lower-case hex, for keys that name content (the
 * query cache key hashes request bodies with it).
 *
 * libcrypto does the hashing.  OpenSSL 3 looks an algorithm up by name on
 * every EVP_sha256() use, under a lock, which cost more than hashing a
 * short body; the digest is fetched once per process here instead.  Safe
 * from any thread. */
#ifndef PR_DIGEST_H
#define PR_DIGEST_H

#include <stddef.h>

#define PR_SHA256_HEX 64   /* digits; out needs one more byte for the NUL */

/* out gets 64 hex digits and a NUL.  Returns 0, or PR_ENOMEM when
 * libcrypto fails (out is then ""). */
int pr_sha256_hex(const void *data, size_t len, char out[PR_SHA256_HEX + 1]);

#endif
