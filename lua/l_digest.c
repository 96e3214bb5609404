/* l_digest.c - perch.sha256(data) -> 64 lower-case hex digits.
 *
 * For keys that name content: the query pipeline's cache key hashes the
 * request body with it.  A cryptographic hash because a collision there
 * would serve one client's answer to another's query, and request bodies
 * come from outside.  OpenSSL's libcrypto does the work (runtime/digest);
 * libcurl already loads it on every device. */
#include "perch.h"

#include "digest.h"

#include <lauxlib.h>

static int l_sha256(lua_State *L)
{
    char out[PR_SHA256_HEX + 1];
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);

    if (pr_sha256_hex(s, len, out) < 0)
        return luaL_error(L, "perch.sha256: libcrypto failed");
    lua_pushlstring(L, out, PR_SHA256_HEX);
    return 1;
}

void pr_l_digest_open(lua_State *L)
{
    lua_pushcfunction(L, l_sha256);
    lua_setfield(L, -2, "sha256");
}
