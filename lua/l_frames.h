/* l_frames.h - the perch.frame userdata and option helpers shared by
 * l_frames.c (sources, frames), l_sink.c (perch.frames.dir_sink),
 * l_jpeg.c (perch.jpeg) and l_motion.c (perch.motion).
 *
 * A frame handle refers to a pr_frame_t: a pool frame of a source (one
 * reference held by the handle) or pixels stored inside the userdata
 * itself (decoded frames: the collector and the memory ceiling see them).
 * A frame handed to on_frame is borrowed: it is released when the callback
 * returns, and using it afterwards raises; frame:keep() makes a handle of
 * one's own. */
#ifndef PR_L_FRAMES_H
#define PR_L_FRAMES_H

#include <lua.h>

#include "frame.h"

typedef struct pr_lframe {
    pr_frame_t *f;      /* NULL once released */
    int borrowed;
    pr_frame_t inl;     /* header of a frame stored in the userdata */
} pr_lframe_t;

/* The live frame at idx (raises for anything else or a released one). */
pr_frame_t *pr_lframe_check(lua_State *L, int idx);
/* Push a handle owning one reference to f (the caller's). */
pr_lframe_t *pr_lframe_push(lua_State *L, pr_frame_t *f, int borrowed);
/* Push a new frame with w x h pixels of fmt stored in the userdata. */
pr_frame_t *pr_lframe_new(lua_State *L, pr_frame_fmt_t fmt, int w, int h);
/* Drop the handle's reference (idempotent). */
void pr_lframe_release(pr_lframe_t *lf);

/* JPEG bytes at idx: a JPEG frame or a string (raises otherwise). */
const uint8_t *pr_l_jpeg_arg(lua_State *L, int idx, size_t *len);

/* nil, message, code (an errno name, or `code` when given) for a failure. */
int pr_l_fail(lua_State *L, const char *msg, int rc, const char *code);

/* The state's shared JPEG codec (l_jpeg.c), created on first use. */
struct pr_jpeg;
struct pr_jpeg *pr_l_jpeg_ctx(lua_State *L);

/* perch.frames.dir_sink, added to the table on top (l_sink.c). */
void pr_l_sink_open(lua_State *L);

#endif
