/* l_json.h - perch.json's decoder for C callers: the fast path of
 * perch.query looks into request bodies without building Lua values, and
 * must accept and refuse exactly the texts perch.json.decode does. */
#ifndef PR_L_JSON_H
#define PR_L_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* cJSON's tree of s[0..len) (s[len] must be NUL, as Lua strings are) when
 * perch.json.decode(s, { max_depth =, max_bytes = }) would return a value:
 * the same depth and size limits, NUL and \u0000 refused, leading zeros and
 * out-of-range numbers refused.  NULL otherwise (the caller then lets the
 * Lua decoder say why).  Numbers: valuedouble, exact for integers up to
 * 2^53.  The caller cJSON_Delete()s the tree. */
cJSON *pr_json_parse_checked(const char *s, size_t len, int max_depth, size_t max_bytes);

#endif
