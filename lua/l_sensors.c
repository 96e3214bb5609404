/* l_sensors.c - perch.sensors: the app's sampler as Lua tables.
 *
 *   perch.sensors.read()        everything, nested, each tracked reading as
 *                               { value, age, stale, stuck }
 *   perch.sensors.inputs()      the flat policy inputs (CONTRACT section 1)
 *   perch.sensors.on_sample(fn) fn() after each new snapshot; a handle
 *
 * The sampler belongs to the app (lua/app.c), not to the state: the state
 * only gets a light pointer to it in the registry.  A subscription is a
 * resource the host owns, so tearing the app down unsubscribes before the
 * sampler goes. */
#include "perch.h"

#include "error.h"
#include "sampler.h"

#include <math.h>
#include <string.h>

#include <lauxlib.h>

static const char SAMPLER_KEY[] = "perch.sampler";
#define SUB_MT "perch.sensors.sub"

void pr_l_sensors_attach(lua_State *L, pr_sampler_t *s)
{
    if (s)
        lua_pushlightuserdata(L, s);
    else
        lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, SAMPLER_KEY);
}

static pr_sampler_t *sampler_of(lua_State *L)
{
    pr_sampler_t *s = pr_l_sensors_sampler(L);
    if (!s)
        luaL_error(L, "perch.sensors: no sensor sampler in this state (an app starts one)");
    return s;
}

pr_sampler_t *pr_l_sensors_sampler(lua_State *L)
{
    pr_sampler_t *s;
    lua_getfield(L, LUA_REGISTRYINDEX, SAMPLER_KEY);
    s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
}

/* The sampler, with the worker's newest snapshot taken in: a script sees
 * fresh readings even in its main chunk or a long callback. */
static pr_sampler_t *fresh_sampler(lua_State *L)
{
    pr_sampler_t *s = sampler_of(L);
    pr_sampler_poll(s);
    return s;
}

/* ------------------------------------------------------------ table helpers */

static void set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

/* Counts, percentages and kHz are integers in sysfs: keep them integers. */
static void push_whole(lua_State *L, double v)
{
    if (v == floor(v) && fabs(v) < 9.0e15)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, v);
}

static void set_bool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

/* An untracked value: a number, or nothing. */
static void set_val(lua_State *L, const char *k, pr_sensors_val_t v, int whole)
{
    if (!v.present)
        return;
    if (whole)
        push_whole(L, v.value);
    else
        lua_pushnumber(L, v.value);
    lua_setfield(L, -2, k);
}

/* A tracked reading as { value, age, stale, stuck }, or nothing if it was
 * never read. */
static void set_reading(lua_State *L, const char *k, const pr_sampler_t *s,
                        pr_sampler_kind_t kind, const char *name, int64_t now, int whole)
{
    pr_sampler_reading_t r;
    if (pr_sampler_reading(s, kind, name, now, &r) < 0)
        return;
    lua_createtable(L, 0, 4);
    if (whole)
        push_whole(L, r.value);
    else
        lua_pushnumber(L, r.value);
    lua_setfield(L, -2, "value");
    set_num(L, "age", r.age_s);
    set_bool(L, "stale", r.stale);
    set_bool(L, "stuck", r.stuck);
    lua_setfield(L, -2, k);
}

/* ------------------------------------------------------------------ inputs */

/* One input: t[k] = value, or stale[k] = why (t, st: stack indices). */
static void set_input(lua_State *L, int t, int st, const char *k, pr_sampler_input_t in,
                      int boolean)
{
    if (in.why)
        lua_pushstring(L, in.why);
    else if (boolean)
        lua_pushboolean(L, in.value != 0);
    else
        lua_pushnumber(L, in.value);
    lua_setfield(L, in.why ? st : t, k);
}

/* The flat inputs, and their stale table, into the table on top. */
static void fill_inputs(lua_State *L, const pr_sampler_inputs_t *in)
{
    int t = lua_gettop(L), st = t + 1;
    lua_newtable(L);
    set_input(L, t, st, "battery", in->battery, 0);
    set_input(L, t, st, "on_ac", in->on_ac, 1);
    set_input(L, t, st, "charging", in->charging, 1);
    set_input(L, t, st, "power_w", in->power_w, 0);
    set_input(L, t, st, "temp", in->temp, 0);
    set_input(L, t, st, "temp_crit", in->temp_crit, 0);
    set_input(L, t, st, "throttled", in->throttled, 1);
    lua_setfield(L, t, "stale");
}

static int l_inputs(lua_State *L)
{
    pr_sampler_t *s = fresh_sampler(L);
    int64_t now = pr_time_ns();
    pr_sampler_inputs_t in;

    pr_sampler_inputs(s, now, &in);
    lua_createtable(L, 0, 9);
    set_num(L, "time", (double)now / 1e9);
    fill_inputs(L, &in);
    return 1;
}

/* -------------------------------------------------------------------- read */

static void push_supply(lua_State *L, const pr_sampler_t *s, const pr_sensors_supply_t *p,
                        int64_t now)
{
    lua_createtable(L, 0, 20);
    set_str(L, "name", p->name);
    set_str(L, "type", p->type);
    if (p->scope[0])
        set_str(L, "scope", p->scope);
    if (p->status[0])
        set_str(L, "status", p->status);
    set_bool(L, "device", p->is_device);
    if (p->online.present)
        set_bool(L, "online", p->online.value == 1.0);
    set_reading(L, "capacity", s, PR_SAMPLER_CAPACITY, p->name, now, 1);
    set_reading(L, "voltage", s, PR_SAMPLER_VOLTAGE, p->name, now, 0);
    set_reading(L, "current", s, PR_SAMPLER_CURRENT, p->name, now, 0);
    set_reading(L, "power", s, PR_SAMPLER_POWER, p->name, now, 0);
    if (p->power.present)
        set_bool(L, "power_derived", p->power_derived);
    set_val(L, "energy_now", p->energy_now, 0);
    set_val(L, "energy_full", p->energy_full, 0);
    set_val(L, "charge_now", p->charge_now, 0);
    set_val(L, "charge_full", p->charge_full, 0);
    set_val(L, "temp", p->temp, 0);
}

static void push_zone(lua_State *L, const pr_sampler_t *s, const pr_sensors_zone_t *z,
                      int64_t now)
{
    lua_createtable(L, 0, 5);
    set_str(L, "name", z->name);
    set_str(L, "type", z->type);
    set_reading(L, "temp", s, PR_SAMPLER_TEMP, z->name, now, 0);
    lua_createtable(L, z->ntrips, 0);
    for (int j = 0; j < z->ntrips; j++) {
        const pr_sensors_trip_t *t = &z->trips[j];
        lua_createtable(L, 0, 3);
        if (t->type[0])
            set_str(L, "type", t->type);
        set_val(L, "temp", t->temp, 0);
        set_val(L, "hyst", t->hyst, 0);
        lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "trips");
    for (int j = 0; j < z->ntrips; j++)
        if (!strcmp(z->trips[j].type, "critical") && z->trips[j].temp.present) {
            set_num(L, "crit", z->trips[j].temp.value);
            break;
        }
}

static void push_policy(lua_State *L, const pr_sampler_t *s, const pr_sensors_policy_t *c,
                        int64_t now)
{
    const char *g = c->available_governors;
    int n = 0;

    lua_createtable(L, 0, 8);
    set_str(L, "name", c->name);
    if (c->governor[0])
        set_str(L, "governor", c->governor);
    lua_newtable(L);
    while (*g) {
        size_t len = strcspn(g, " ");
        if (len) {
            lua_pushlstring(L, g, len);
            lua_rawseti(L, -2, ++n);
        }
        g += len;
        g += strspn(g, " ");
    }
    lua_setfield(L, -2, "governors");
    set_val(L, "min", c->scaling_min, 1);
    set_val(L, "max", c->scaling_max, 1);
    set_reading(L, "cur", s, PR_SAMPLER_FREQ, c->name, now, 1);
    set_val(L, "cpuinfo_min", c->cpuinfo_min, 1);
    set_val(L, "cpuinfo_max", c->cpuinfo_max, 1);
}

/* From the tracked word, so a vanished file keeps its last flags (marked
 * stale in time); { present = false } when there never was one. */
static void push_throttled(lua_State *L, const pr_sampler_t *s, int64_t now)
{
    static const char *const names[4] = { "under_voltage", "freq_capped", "throttled",
                                           "soft_temp_limit" };
    pr_sampler_reading_t r;
    uint32_t w;

    if (pr_sampler_reading(s, PR_SAMPLER_THROTTLED, "", now, &r) < 0) {
        lua_createtable(L, 0, 1);
        set_bool(L, "present", 0);
        return;
    }
    w = (uint32_t)r.value;
    lua_createtable(L, 0, 10);
    set_bool(L, "present", 1);
    lua_pushinteger(L, (lua_Integer)w);
    lua_setfield(L, -2, "raw");
    for (int i = 0; i < 4; i++)
        set_bool(L, names[i], (w >> i) & 1);
    lua_createtable(L, 0, 4);
    for (int i = 0; i < 4; i++)
        set_bool(L, names[i], (w >> (16 + i)) & 1);
    lua_setfield(L, -2, "occurred");
    set_num(L, "age", r.age_s);
    set_bool(L, "stale", r.stale);
    set_bool(L, "stuck", r.stuck);
}

static int l_read(lua_State *L)
{
    pr_sampler_t *s = fresh_sampler(L);
    const pr_sensors_t *snap = pr_sampler_latest(s);
    int64_t now = pr_time_ns();
    pr_sampler_inputs_t in;

    lua_createtable(L, 0, 9);
    set_num(L, "time", (double)snap->time_ns / 1e9);
    set_num(L, "age", (double)(now - snap->time_ns) / 1e9);
    set_str(L, "root", pr_sampler_opts(s)->root);
    set_bool(L, "truncated", snap->truncated);

    lua_createtable(L, snap->nsupplies, 0);
    for (int i = 0; i < snap->nsupplies; i++) {
        push_supply(L, s, &snap->supplies[i], now);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "supplies");
    lua_createtable(L, snap->nzones, 0);
    for (int i = 0; i < snap->nzones; i++) {
        push_zone(L, s, &snap->zones[i], now);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "zones");
    lua_createtable(L, snap->npolicies, 0);
    for (int i = 0; i < snap->npolicies; i++) {
        push_policy(L, s, &snap->policies[i], now);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "cpufreq");
    push_throttled(L, s, now);
    lua_setfield(L, -2, "throttled");

    /* The summary: the inputs, plus presence said both ways round. */
    pr_sampler_inputs(s, now, &in);
    lua_createtable(L, 0, 14);
    set_bool(L, "has_battery", in.has_battery);
    set_bool(L, "no_battery", !in.has_battery);
    set_bool(L, "has_thermal", in.has_thermal);
    set_bool(L, "no_thermal", !in.has_thermal);
    set_bool(L, "discharging", in.discharging);
    if (in.hot_zone >= 0)
        set_str(L, "hot_zone", snap->zones[in.hot_zone].name);
    fill_inputs(L, &in);
    lua_setfield(L, -2, "summary");
    return 1;
}

/* --------------------------------------------------------------- on_sample */

typedef struct lsub {
    pr_res_t res;           /* first: the host's resource list links this */
    pr_callback_t cb;
    pr_host_t *h;
    pr_sampler_t *s;
    int closed;
} lsub_t;

static void on_sample(pr_sampler_t *s, const pr_sensors_t *snap, void *ud);

static void sub_close(lsub_t *u)
{
    if (u->closed)
        return;
    u->closed = 1;
    pr_sampler_off_sample(u->s, on_sample, u);
    pr_host_disown(u->h, &u->res);
    pr_callback_unset(pr_host_lua(u->h), &u->cb);
}

static void res_close(pr_res_t *r) { sub_close((lsub_t *)r); }

static void on_sample(pr_sampler_t *s, const pr_sensors_t *snap, void *ud)
{
    lsub_t *u = ud;
    (void)s;
    (void)snap;
    if (pr_host_call(u->h, &u->cb, 0, 0) == PR_EDISABLED || u->cb.disabled)
        pr_sampler_off_sample(u->s, on_sample, u);
}

static int l_on_sample(lua_State *L)
{
    pr_sampler_t *s = sampler_of(L);
    pr_host_t *h = pr_host_of(L);
    lsub_t *u;

    luaL_checktype(L, 1, LUA_TFUNCTION);
    u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    u->closed = 1;   /* until set up, so __gc does nothing */
    u->cb.ref = LUA_NOREF;
    u->h = h;
    u->s = s;
    luaL_setmetatable(L, SUB_MT);
    pr_callback_set(L, &u->cb, 1, "sensors.on_sample callback");
    if (pr_sampler_on_sample(s, on_sample, u) < 0) {
        pr_callback_unset(L, &u->cb);
        return luaL_error(L, "perch.sensors.on_sample: at most %d subscribers",
                          PR_SAMPLER_MAX_SUBS);
    }
    u->res.close = res_close;
    u->closed = 0;
    pr_host_own(h, &u->res);
    return 1;
}

static int sub_gc(lua_State *L)
{
    sub_close(luaL_checkudata(L, 1, SUB_MT));
    return 0;
}

static int sub_tostring(lua_State *L)
{
    lsub_t *u = luaL_checkudata(L, 1, SUB_MT);
    if (u->closed)
        lua_pushstring(L, "perch.sensors.sub (closed)");
    else
        lua_pushfstring(L, "perch.sensors.sub (%s)", u->cb.where);
    return 1;
}

static const luaL_Reg sub_meta[] = {
    { "__gc", sub_gc },
    { "__close", sub_gc },
    { "__tostring", sub_tostring },
    { NULL, NULL },
};

static const luaL_Reg sub_methods[] = {
    { "close", sub_gc },
    { NULL, NULL },
};

static const luaL_Reg sensors_funcs[] = {
    { "read", l_read },
    { "inputs", l_inputs },
    { "on_sample", l_on_sample },
    { NULL, NULL },
};

void pr_l_sensors_open(lua_State *L)
{
    luaL_newmetatable(L, SUB_MT);
    luaL_setfuncs(L, sub_meta, 0);
    luaL_newlib(L, sub_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, sensors_funcs);
    lua_setfield(L, -2, "sensors");
}
