/* embed.c - the pure-Lua modules (lua/perch/ *.lua) compiled into the binary.
 *
 * A device gets the library that matches its runtime, with no search path to
 * set up.  The sources are pulled in by the assembler's .incbin (the build
 * passes -Wa,-I to the source root), so there is no generated code; the
 * top-level Makefile rebuilds this object when a module changes.  To add a
 * module: one EMBED line and one row in `modules`. */
#include "perch.h"

#include <string.h>

#include <lauxlib.h>

#define EMBED(sym, file)                                                   \
    __asm__(".section .rodata\n"                                           \
            ".balign 16\n"                                                 \
            ".globl " #sym "_start\n" #sym "_start:\n"                     \
            ".incbin \"" file "\"\n"                                       \
            ".globl " #sym "_end\n" #sym "_end:\n"                         \
            ".byte 0\n"                                                    \
            ".previous\n");                                                \
    extern const char sym##_start[], sym##_end[]

EMBED(perch_test_lua, "lua/perch/test.lua");
EMBED(perch_hysteresis_lua, "lua/perch/hysteresis.lua");
EMBED(perch_policy_lua, "lua/perch/policy.lua");
EMBED(perch_sim_lua, "lua/perch/sim.lua");
EMBED(perch_plot_lua, "lua/perch/plot.lua");
EMBED(perch_repl_lua, "lua/perch/repl.lua");
EMBED(perch_runner_lua, "lua/perch/runner.lua");
EMBED(perch_retry_lua, "lua/perch/retry.lua");
EMBED(perch_route_lua, "lua/perch/route.lua");
EMBED(perch_query_lua, "lua/perch/query.lua");
EMBED(perch_upload_lua, "lua/perch/upload.lua");

static const struct {
    const char *name;       /* require name */
    const char *chunkname;  /* what error messages and tracebacks show */
    const char *start, *end;
} modules[] = {
    { "perch.test", "@lua/perch/test.lua", perch_test_lua_start, perch_test_lua_end },
    { "perch.hysteresis", "@lua/perch/hysteresis.lua", perch_hysteresis_lua_start,
      perch_hysteresis_lua_end },
    { "perch.policy", "@lua/perch/policy.lua", perch_policy_lua_start, perch_policy_lua_end },
    { "perch.sim", "@lua/perch/sim.lua", perch_sim_lua_start, perch_sim_lua_end },
    { "perch.plot", "@lua/perch/plot.lua", perch_plot_lua_start, perch_plot_lua_end },
    { "perch.repl", "@lua/perch/repl.lua", perch_repl_lua_start, perch_repl_lua_end },
    { "perch.runner", "@lua/perch/runner.lua", perch_runner_lua_start, perch_runner_lua_end },
    { "perch.retry", "@lua/perch/retry.lua", perch_retry_lua_start, perch_retry_lua_end },
    { "perch.route", "@lua/perch/route.lua", perch_route_lua_start, perch_route_lua_end },
    { "perch.query", "@lua/perch/query.lua", perch_query_lua_start, perch_query_lua_end },
    { "perch.upload", "@lua/perch/upload.lua", perch_upload_lua_start, perch_upload_lua_end },
};

int pr_l_embed_has(const char *name)
{
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        if (strcmp(modules[i].name, name) == 0)
            return 1;
    }
    return 0;
}

int pr_l_embed_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        if (strcmp(modules[i].name, name) != 0)
            continue;
        if (luaL_loadbuffer(L, modules[i].start, (size_t)(modules[i].end - modules[i].start),
                            modules[i].chunkname) != LUA_OK)
            return lua_error(L);
        lua_pushstring(L, modules[i].chunkname + 1);
        return 2;
    }
    lua_pushfstring(L, "no embedded module '%s'", name);
    return 1;
}
