/* lopt.h - option tables of the Lua bindings, as in
 * perch.cache.open{ path = ..., max_mb = 64 }: every binding refuses an
 * unknown key the same way, naming it and the known ones ("a typo gets a
 * list, not silence"), and reads each key with its type and range checked.
 * All of these raise on a mistake, with `what` ("perch.motion.new") first. */
#ifndef PR_LOPT_H
#define PR_LOPT_H

#include <lua.h>

/* The table at t (raises if it is not one) has only keys from keys
 * (NULL-terminated). */
void pr_lopt_keys(lua_State *L, int t, const char *what, const char *const *keys);
/* t[key] or def when nil; numbers must lie in [lo, hi]. */
double pr_lopt_num(lua_State *L, int t, const char *what, const char *key, double def,
                   double lo, double hi);
lua_Integer pr_lopt_int(lua_State *L, int t, const char *what, const char *key,
                        lua_Integer def, lua_Integer lo, lua_Integer hi);
const char *pr_lopt_str(lua_State *L, int t, const char *what, const char *key,
                        const char *def);
int pr_lopt_bool(lua_State *L, int t, const char *what, const char *key, int def);

#endif
