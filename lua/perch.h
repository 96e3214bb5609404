/* perch.h - the perch Lua library as the C side sees it.
 *
 * pr_lua_open() makes `require "perch"` work in a host's state (and sets the
 * global `perch`), and lets `require` find the pure-Lua modules compiled
 * into the binary (the files in lua/perch: perch.test, ...).  The l_*.c files each
 * add one part of the library; they share the registration functions below. */
#ifndef PR_PERCH_H
#define PR_PERCH_H

#include <lua.h>

#include "host.h"

/* Open the library in h's state.  Runs protected; returns 0 or PR_E*. */
int pr_lua_open(pr_host_t *h);

/* Run the app's on_stop hooks, newest first, each through the host. */
void pr_lua_run_stop_hooks(pr_host_t *h);

int luaopen_perch(lua_State *L);

/* Parts of the library: each adds its functions to the table on top. */
void pr_l_timer_open(lua_State *L);
void pr_l_task_open(lua_State *L);
void pr_l_http_open(lua_State *L);
/* perch.http.serve, into the perch.http table l_http.c made. */
void pr_l_http_server_open(lua_State *L);
void pr_l_metrics_open(lua_State *L);
/* The family behind the perch.metrics handle at idx; NULL if idx is not
 * one or its label names are not fixed yet.  Does not raise. */
struct pr_metric;
struct pr_metric *pr_l_metric_family(lua_State *L, int idx);
void pr_l_log_open(lua_State *L);
void pr_l_kernels_open(lua_State *L);
void pr_l_buffer_open(lua_State *L);
void pr_l_npy_open(lua_State *L);
void pr_l_mlp_open(lua_State *L);
void pr_l_models_open(lua_State *L);
void pr_l_actuators_open(lua_State *L);
/* Make d (the device's actuators and safety floor, owned by the caller and
 * outliving the state) what perch.actuators works on. */
struct pr_device;
void pr_l_actuators_bind(lua_State *L, struct pr_device *d);
/* The bound device, or NULL (a state without one). */
struct pr_device *pr_l_actuators_device(lua_State *L);
void pr_l_sensors_open(lua_State *L);
/* Give the state the app's sensor sampler (NULL: none); perch.sensors uses
 * it.  May raise (memory): call protected. */
struct pr_sampler;
void pr_l_sensors_attach(lua_State *L, struct pr_sampler *s);
/* The attached sampler, or NULL.  Does not raise. */
struct pr_sampler *pr_l_sensors_sampler(lua_State *L);
void pr_l_cache_open(lua_State *L);
/* Where the perch.cache handle at idx keeps its pr_cache_t (NULL once the
 * handle is closed), for C that holds a reference to the handle; NULL if
 * idx is not a cache handle.  Does not raise. */
struct pr_cache;
struct pr_cache **pr_l_cache_slot(lua_State *L, int idx);
/* perch.frames (sources, frames, dir_sink), perch.jpeg, perch.motion. */
void pr_l_frames_open(lua_State *L);
void pr_l_jpeg_open(lua_State *L);
void pr_l_motion_open(lua_State *L);
void pr_l_json_open(lua_State *L);
void pr_l_digest_open(lua_State *L);
/* package.preload["perch.retry.core"]: what lua/perch/retry.lua builds on. */
void pr_l_retry_preload(lua_State *L);
/* package.preload["perch.query.front"]: perch.query's fast path in C. */
void pr_l_query_front_preload(lua_State *L);
/* Load a .npy file into a new f32 buffer left on the stack (0), or push a
 * message naming the file and the problem (-1).  hdr gets the shape. */
struct pr_lbuf;
struct pr_npy;
int pr_l_npy_load(lua_State *L, const char *path, struct pr_lbuf **out, struct pr_npy *hdr);
/* After a reload: each active repeating timer of `to` takes the next
 * deadline of the old version's timer with the same period (matched in
 * creation order), so a periodic loop keeps its cadence across the swap.
 * Returns how many were matched. */
size_t pr_l_timer_adopt_phases(pr_host_t *from, pr_host_t *to);
void pr_l_reload_open(lua_State *L);
/* package.searchers entry for the embedded modules. */
int pr_l_embed_searcher(lua_State *L);
/* 1 if `name` ("perch.policy") is an embedded module. */
int pr_l_embed_has(const char *name);

#endif
