/* l_buffer.h - perch.buffer: typed arrays for the kernels.
 *
 * Storage lives inside the userdata (so it counts against the state's memory
 * ceiling and the collector frees it), aligned to 64 bytes.  Kernel bindings
 * use pr_lbuf_check() to get a buffer of a given type and its length. */
#ifndef PR_L_BUFFER_H
#define PR_L_BUFFER_H

#include <stddef.h>

#include <lua.h>

typedef enum { PR_BUF_F32, PR_BUF_I8, PR_BUF_U8, PR_BUF_I32, PR_BUF_NTYPES } pr_buf_type_t;

typedef struct pr_lbuf {
    pr_buf_type_t type;
    size_t n;      /* elements */
    void *data;    /* 64-byte aligned, inside the userdata */
} pr_lbuf_t;

/* The buffer at idx, which must be of `type` (raises a clear error
 * otherwise: "bad argument #2 to 'dot' (f32 buffer expected, got u8
 * buffer)"). */
pr_lbuf_t *pr_lbuf_check(lua_State *L, int idx, pr_buf_type_t type);
/* A new zeroed buffer on the stack. */
pr_lbuf_t *pr_lbuf_new(lua_State *L, pr_buf_type_t type, size_t n);
const char *pr_lbuf_type_name(pr_buf_type_t type);

#endif
