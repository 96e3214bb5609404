/* digest.c - SHA-256 in hex through libcrypto, the algorithm fetched once
 * (see digest.h). */
#include "digest.h"

#include "error.h"

#include <pthread.h>

#include <openssl/evp.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;   /* kept for the process's life */

static void fetch(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int pr_sha256_hex(const void *data, size_t len, char out[PR_SHA256_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    pthread_once(&once, fetch);
    out[0] = '\0';
    if (!sha256 || !EVP_Digest(data, len, md, &n, sha256, NULL) || n != PR_SHA256_HEX / 2)
        return PR_ENOMEM;
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[PR_SHA256_HEX] = '\0';
    return 0;
}
