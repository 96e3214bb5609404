/* l_actuators.c - perch.actuators: what policies ask of the device, and
 * what the safety floor lets through.
 *
 *   perch.actuators.set{ fps = 5, cpu_max_khz = 1200000, ... } -> true
 *       unknown name or wrong type: raises; a value out of range or a
 *       governor the hardware lacks: nil, message, "ERANGE"|"EINVAL" (and
 *       nothing is changed); a failed sysfs write: nil, message, errno name
 *       (the request is kept and retried when it changes)
 *   perch.actuators.get() -> { fps = { requested, effective, mode,
 *       clamped_by, ... }, ..., safety = { engaged, temp, crit, since, ... },
 *       dry_run }
 *
 * The device (runtime/device.h) is C's, not the script's: lua/app.c binds
 * it to the state with pr_l_actuators_bind() and it outlives every call. */
#include "perch.h"

#include "device.h"
#include "error.h"

#include <errno.h>
#include <string.h>

#include <lauxlib.h>

/* Registry key of the bound device (light userdata). */
static const char DEVICE_KEY[] = "perch.device";

void pr_l_actuators_bind(lua_State *L, pr_device_t *d)
{
    lua_pushlightuserdata(L, d);
    lua_setfield(L, LUA_REGISTRYINDEX, DEVICE_KEY);
}

pr_device_t *pr_l_actuators_device(lua_State *L)
{
    pr_device_t *d;
    lua_getfield(L, LUA_REGISTRYINDEX, DEVICE_KEY);
    d = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return d;
}

static pr_device_t *device_of(lua_State *L)
{
    pr_device_t *d;
    lua_getfield(L, LUA_REGISTRYINDEX, DEVICE_KEY);
    d = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!d)
        luaL_error(L, "perch.actuators: no device in this state");
    return d;
}

static const char *type_name(int t)
{
    return t == PR_ACT_NUMBER ? "a number" : t == PR_ACT_BOOLEAN ? "a boolean" : "a string";
}

/* nil, message, code for a negated errno. */
static int fail(lua_State *L, const char *msg, int rc)
{
    const char *code = rc < 0 && rc > -PR_EBASE ? strerrorname_np(-rc) : NULL;
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, code ? code : "EINVAL");
    return 3;
}

static int l_set(lua_State *L)
{
    pr_actuators_t *a = pr_device_actuators(device_of(L));
    pr_act_value_t v[PR_ACT_COUNT];
    char err[320];
    int first = 0;

    if (!lua_istable(L, 1))
        return luaL_error(L, "perch.actuators.set: expected a table of actuator values, got %s",
                     luaL_typename(L, 1));
    memset(v, 0, sizeof v);
    /* Check every name and type first: a bad table changes nothing. */
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int id, t;
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "perch.actuators.set: keys must be actuator names, got "
                              "a %s key", luaL_typename(L, -2));
        id = pr_actuators_id(lua_tostring(L, -2));
        if (id < 0)
            return luaL_error(L, "perch.actuators.set: unknown actuator '%s' (fps, "
                              "jpeg_quality, cpu_max_khz, cpu_governor, upstream_allowed)",
                              lua_tostring(L, -2));
        t = pr_actuators_type(id);
        if ((t == PR_ACT_NUMBER && lua_type(L, -1) != LUA_TNUMBER) ||
            (t == PR_ACT_BOOLEAN && lua_type(L, -1) != LUA_TBOOLEAN) ||
            (t == PR_ACT_STRING && lua_type(L, -1) != LUA_TSTRING))
            return luaL_error(L, "perch.actuators.set: %s must be %s, got %s",
                              pr_actuators_name(id), type_name(t), luaL_typename(L, -1));
        v[id].set = 1;
        if (t == PR_ACT_NUMBER)
            v[id].num = lua_tonumber(L, -1);
        else if (t == PR_ACT_BOOLEAN)
            v[id].num = lua_toboolean(L, -1);
        else {
            size_t n;
            const char *s = lua_tolstring(L, -1, &n);
            if (n >= sizeof v[id].str)
                return fail(L, lua_pushfstring(L, "%s '%s' is not a governor name (too long)",
                                               pr_actuators_name(id), s), -EINVAL);
            memcpy(v[id].str, s, n + 1);
        }
        lua_pop(L, 1);
    }
    /* Then every range: all or nothing. */
    for (int id = 0; id < PR_ACT_COUNT; id++) {
        int rc;
        if (v[id].set && (rc = pr_actuators_check(a, id, &v[id], err, sizeof err)) < 0)
            return fail(L, err, rc);
    }
    for (int id = 0; id < PR_ACT_COUNT; id++) {
        char e[sizeof err];
        int rc;
        if (!v[id].set)
            continue;
        rc = pr_actuators_request(a, id, &v[id], e, sizeof e);
        if (rc < 0 && !first) {
            first = rc;
            memcpy(err, e, sizeof err);
        }
    }
    if (first < 0)
        return fail(L, err, first);
    lua_pushboolean(L, 1);
    return 1;
}

/* t[k] = x, an integer when x is whole. */
static void set_num(lua_State *L, const char *k, double x)
{
    lua_Integer i;
    if (lua_numbertointeger(x, &i) && (double)i == x)
        lua_pushinteger(L, i);
    else
        lua_pushnumber(L, x);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, unsigned long long x)
{
    lua_pushinteger(L, (lua_Integer)x);
    lua_setfield(L, -2, k);
}

/* t[k] = v (nothing when unset). */
static void set_value(lua_State *L, const char *k, const pr_act_state_t *s,
                      const pr_act_value_t *v)
{
    if (!v->set)
        return;
    if (s->type == PR_ACT_NUMBER) {
        set_num(L, k, v->num);
        return;
    }
    if (s->type == PR_ACT_BOOLEAN)
        lua_pushboolean(L, v->num != 0);
    else
        lua_pushstring(L, v->str);
    lua_setfield(L, -2, k);
}

static int l_get(lua_State *L)
{
    pr_device_t *d = device_of(L);
    pr_actuators_t *a = pr_device_actuators(d);
    pr_safety_state_t ss;

    lua_createtable(L, 0, PR_ACT_COUNT + 2);
    for (int id = 0; id < PR_ACT_COUNT; id++) {
        pr_act_state_t s;
        pr_actuators_state(a, id, &s);
        lua_createtable(L, 0, 12);
        set_value(L, "requested", &s, &s.requested);
        set_value(L, "effective", &s, &s.effective);
        lua_pushstring(L, s.dry_run ? "dry-run" : "write");
        lua_setfield(L, -2, "mode");
        if (s.clamped) {
            lua_pushliteral(L, "safety");
            lua_setfield(L, -2, "clamped_by");
        }
        if (s.lo == s.lo)
            set_num(L, "min", s.lo);
        if (s.hi == s.hi)
            set_num(L, "max", s.hi);
        if (s.choices[0]) {
            lua_pushstring(L, s.choices);
            lua_setfield(L, -2, "available");
        }
        set_int(L, "changes", s.changes);
        set_int(L, "writes", s.writes);
        set_int(L, "dry_writes", s.dry_writes);
        set_int(L, "failures", s.failures);
        if (s.last_error[0]) {
            lua_pushstring(L, s.last_error);
            lua_setfield(L, -2, "last_error");
        }
        lua_setfield(L, -2, s.name);
    }

    pr_safety_state(pr_device_safety(d), &ss);
    lua_createtable(L, 0, 8);
    lua_pushboolean(L, ss.engaged);
    lua_setfield(L, -2, "engaged");
    lua_pushboolean(L, ss.known);
    lua_setfield(L, -2, "known");
    if (ss.known) {
        set_num(L, "temp", ss.temp_c);
        lua_pushstring(L, ss.zone);
        lua_setfield(L, -2, "zone");
    }
    if (ss.crit_c == ss.crit_c) {
        set_num(L, "crit", ss.crit_c);
        set_num(L, "release_below", ss.crit_c - ss.release_c);
    }
    if (ss.engaged)
        set_num(L, "since", (double)ss.since_ns * 1e-9);
    set_int(L, "engagements", ss.engagements);
    set_int(L, "samples", ss.samples);
    lua_setfield(L, -2, "safety");

    lua_pushboolean(L, pr_actuators_dry_run(a));
    lua_setfield(L, -2, "dry_run");
    return 1;
}

void pr_l_actuators_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "set", l_set }, { "get", l_get }, { NULL, NULL },
    };
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "actuators");
}
