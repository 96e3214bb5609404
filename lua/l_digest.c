/* l_digest.c - perch.sha256(data) -> 64 lower-case hex digits.
 *
 * For keys that name content: the query pipeline's cache key hashes the
 * request body with it.  A cryptographic hash because a collision there
 * would serve one client's answer to another's query, and request bodies
 * come from outside.  OpenSSL's libcrypto does the work; libcurl already
 * loads it on every device. */
#include "perch.h"

#include <openssl/evp.h>

#include <lauxlib.h>

static int l_sha256(lua_State *L)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char out[2 * EVP_MAX_MD_SIZE];
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);

    if (!EVP_Digest(s, len, md, &n, EVP_sha256(), NULL))
        return luaL_error(L, "perch.sha256: libcrypto failed");
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    lua_pushlstring(L, out, 2 * (size_t)n);
    return 1;
}

void pr_l_digest_open(lua_State *L)
{
    lua_pushcfunction(L, l_sha256);
    lua_setfield(L, -2, "sha256");
}
