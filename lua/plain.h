/* plain.h - plain Lua data carried from one Lua state to another.
 *
 * A reload hands the old version's on_save() result to the new version's
 * on_reload(): two separate states, so the value is encoded into a byte
 * string in C and decoded in the other state.  Plain data is nil,
 * booleans, numbers (integer or float, kept as such), strings, and tables
 * whose keys are strings, numbers or booleans and whose values are plain
 * data, nested up to PR_PLAIN_MAX_DEPTH.  A table reached twice is copied
 * twice (identity is not kept); a table inside itself (a cycle) is refused,
 * as are functions, userdata, threads and metatables' behaviour (metatables
 * are dropped).  The error names where the value sits: "state.cb is a
 * function". */
#ifndef PR_PLAIN_H
#define PR_PLAIN_H

#include <stddef.h>

#include <lua.h>

#define PR_PLAIN_MAX_DEPTH 64

typedef struct pr_plain {
    unsigned char *data;  /* malloc'ed; NULL when empty */
    size_t len, cap;
} pr_plain_t;

/* Append the encoding of the value at idx to out.  Raises a Lua error (call
 * it protected) naming the first value that is not plain data, with `root`
 * as the name of the whole value ("state").  On error out keeps what was
 * written so far: pr_plain_free() it. */
void pr_plain_encode(lua_State *L, int idx, pr_plain_t *out, const char *root);
/* Push the value p encodes.  Raises on a memory error or malformed data. */
void pr_plain_decode(lua_State *L, const pr_plain_t *p);
void pr_plain_free(pr_plain_t *p);

#endif
