/* l_query_front.c - perch.query's fast path: fresh cache hits of
 * POST /v1/query answered in C, with no Lua running.
 *
 *   local front = require("perch.query.front").new{
 *     rules = router:plan(), cache = cache, stats = q.stats,
 *     metric = q.m_requests, live_inputs = true, max_depth = 64, max_body = 1 << 20 }
 *   srv:route("POST", "/v1/query", function(req) return q:handle(req) end, front)
 *
 * A hit is most of what a device's query server answers, and running the
 * Lua pipeline for one (decode, rules, key, lookup, answer table) cost
 * three times the HTTP exchange itself.  The front repeats exactly that
 * pipeline, for the part of it that C can decide:
 *   - the body decodes as perch.json.decode would take it (l_json.h), with
 *     q's limits; otherwise the Lua path answers (400);
 *   - the rules are walked in order, each condition as route.lua's would
 *     judge it: method, path, prefix, body size, json field equal to a
 *     constant, battery and on_ac from perch.sensors (when the app gave no
 *     inputs of its own).  A condition only Lua can judge (patterns,
 *     headers, functions, link health, a number past 2^53) reached while
 *     the rule could still match hands the request to Lua;
 *   - the decided rule caches (cache-only, or a ttl_s), the key is
 *     perch.query's (method, path?query, SHA-256 of the body), and the
 *     entry is fresh (pr_cache_get_fresh: a stale or missing entry is left
 *     to the Lua path untouched, refresh claim included);
 *   - the answer is q:_answer's: the stored status (200 if none), the
 *     stored content type (application/json if none), x-perch-route and
 *     x-perch-cache: hit; q.stats.requests and hits, and
 *     perch_query_requests_total{route,kind,cache="hit",status} count it.
 * Everything else goes to the route's Lua handler, which decides afresh.
 * tests/runtime/query_front.t holds both paths to the same answers. */
#include "perch.h"

#include "cache.h"
#include "digest.h"
#include "l_http_front.h"
#include "l_json.h"
#include "loop.h"
#include "metrics.h"
#include "sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define KEY_PATH_MAX 300        /* perch.query hashes longer paths */
#define EXACT_MAX 9007199254740992.0   /* 2^53: doubles are exact integers up to here */

enum { P_METHOD, P_PATH, P_PREFIX, P_BODY_MIN, P_BODY_MAX, P_JSON, P_BATTERY_BELOW,
       P_BATTERY_ABOVE, P_ON_AC, P_OPAQUE };
enum { W_STRING, W_NUMBER, W_BOOL, W_NULL };

typedef struct part {
    char *key;                  /* an object key, or NULL: index */
    long long index;            /* 1-based, as Lua's */
} part_t;

typedef struct pred {
    int kind;
    char **names;               /* P_METHOD */
    int nnames;
    char *str;                  /* P_PATH, P_PREFIX; P_JSON's string */
    size_t slen;
    double num;                 /* sizes, battery; P_JSON's number */
    int flag;                   /* P_ON_AC; P_JSON's boolean */
    int want;                   /* P_JSON: W_* */
    part_t *parts;              /* P_JSON */
    int nparts;
} pred_t;

typedef struct rule {
    char *name;
    char kind[16];
    int caches;                 /* what perch.query looks up in the cache */
    pred_t *preds;
    int npreds;
} rule_t;

typedef struct front {
    pr_l_http_front_t base;     /* first: the server calls through it */
    lua_State *L;               /* the app's main thread */
    rule_t *rules;
    int nrules;
    pr_cache_t **cache;         /* in the cache handle (cache_ref): NULL once closed */
    int cache_ref, stats_ref, metric_ref;
    pr_metric_t *metric;        /* or NULL */
    int label_of[4];            /* metric label i is route/kind/cache/status */
    int live_inputs;            /* battery/on_ac from perch.sensors */
    int max_depth;
    size_t max_body;
    uint64_t answered;
} front_t;

/* One request as the rules see it. */
typedef struct view {
    const char *method, *path, *body;
    size_t blen;
    cJSON *doc;                 /* NULL: empty body */
    int have_inputs;
    pr_sampler_inputs_t in;
    int in_ok;                  /* a sampler was there */
} view_t;

/* --------------------------------------------------------------- rules -- */

/* The JSON value at the parts of p, as Lua's v[part] walk finds it. */
static const cJSON *json_at(const cJSON *v, const pred_t *p)
{
    for (int i = 0; i < p->nparts && v; i++) {
        const part_t *pt = &p->parts[i];
        const cJSON *found = NULL;
        if (cJSON_IsObject(v)) {
            if (pt->key)   /* a repeated key: the last one, as the decoder keeps */
                for (const cJSON *c = v->child; c; c = c->next)
                    if (c->string && !strcmp(c->string, pt->key))
                        found = c;
        } else if (cJSON_IsArray(v)) {
            if (!pt->key && pt->index >= 1 && pt->index <= cJSON_GetArraySize(v))
                found = cJSON_GetArrayItem(v, (int)(pt->index - 1));
        }
        v = found;  /* not a table, or no such field: nil */
    }
    return v;
}

/* 1 / 0: the condition holds or not; -1: only Lua can tell. */
static int json_eq(const view_t *q, const pred_t *p)
{
    const cJSON *v = q->doc ? json_at(q->doc, p) : NULL;
    if (!v)
        return 0;
    switch (p->want) {
    case W_STRING:
        return cJSON_IsString(v) && strlen(v->valuestring) == p->slen &&
               !memcmp(v->valuestring, p->str, p->slen);
    case W_BOOL:
        return cJSON_IsBool(v) && cJSON_IsTrue(v) == p->flag;
    case W_NULL:
        return cJSON_IsNull(v);
    default:
        if (!cJSON_IsNumber(v))
            return 0;
        /* Past 2^53 Lua compares the exact integer the literal holds. */
        if (fabs(v->valuedouble) >= EXACT_MAX)
            return -1;
        return v->valuedouble == p->num;
    }
}

static const pr_sampler_inputs_t *inputs(front_t *f, view_t *q)
{
    if (!q->have_inputs) {
        pr_sampler_t *s = pr_l_sensors_sampler(f->L);
        q->have_inputs = 1;
        if (s) {
            pr_sampler_poll(s);
            pr_sampler_inputs(s, pr_time_ns(), &q->in);
            q->in_ok = 1;
        }
    }
    return q->in_ok ? &q->in : NULL;
}

static int pred_eval(front_t *f, const pred_t *p, view_t *q)
{
    const pr_sampler_inputs_t *in;
    switch (p->kind) {
    case P_METHOD:
        for (int i = 0; i < p->nnames; i++)
            if (!strcmp(q->method, p->names[i]))
                return 1;
        return 0;
    case P_PATH:
        return !strcmp(q->path, p->str);
    case P_PREFIX:
        return !strncmp(q->path, p->str, p->slen);
    case P_BODY_MIN:
        return (double)q->blen >= p->num;
    case P_BODY_MAX:
        return (double)q->blen <= p->num;
    case P_JSON:
        return json_eq(q, p);
    case P_BATTERY_BELOW:
    case P_BATTERY_ABOVE:
        if (!f->live_inputs)
            return -1;
        if (!(in = inputs(f, q)) || in->battery.why)
            return 0;  /* unknown never matches */
        return p->kind == P_BATTERY_BELOW ? in->battery.value < p->num
                                          : in->battery.value > p->num;
    case P_ON_AC:
        if (!f->live_inputs)
            return -1;
        if (!(in = inputs(f, q)) || in->on_ac.why)
            return 0;
        return (in->on_ac.value != 0) == p->flag;
    default:
        return -1;
    }
}

/* The first rule whose conditions all hold, or NULL when only Lua can
 * tell which. */
static const rule_t *decide(front_t *f, view_t *q)
{
    for (int i = 0; i < f->nrules; i++) {
        const rule_t *r = &f->rules[i];
        int all = 1;
        for (int j = 0; j < r->npreds && all; j++) {
            int v = pred_eval(f, &r->preds[j], q);
            if (v < 0)
                return NULL;
            all = v;
        }
        if (all)
            return r;
    }
    return NULL;
}

/* -------------------------------------------------------------- answer -- */

/* perch.query's cache key: "METHOD PATH[?QUERY] SHA256(BODY)". */
static int cache_key(const view_t *q, const char *query, char *key, size_t keylen)
{
    char path[KEY_PATH_MAX + 2], body_hex[PR_SHA256_HEX + 1];
    int n = snprintf(path, sizeof path, "%s%s%s", q->path, *query ? "?" : "", query);
    if (n < 0)
        return -1;
    if ((size_t)n > KEY_PATH_MAX) {
        /* Too long for the buffer, or over the limit: hash the whole. */
        size_t plen = strlen(q->path), qlen = strlen(query);
        char *whole = malloc(plen + qlen + 2), hex[PR_SHA256_HEX + 1];
        if (!whole)
            return -1;
        n = snprintf(whole, plen + qlen + 2, "%s%s%s", q->path, qlen ? "?" : "", query);
        if (pr_sha256_hex(whole, (size_t)n, hex) < 0) {
            free(whole);
            return -1;
        }
        free(whole);
        snprintf(path, sizeof path, "#%s", hex);
    }
    if (pr_sha256_hex(q->body, q->blen, body_hex) < 0)
        return -1;
    n = snprintf(key, keylen, "%s %s %s", q->method, path, body_hex);
    return n > 0 && (size_t)n < keylen && (size_t)n <= PR_CACHE_KEY_MAX ? n : -1;
}

/* q.stats[k] += 1 for a field that is there: no allocation, no raise. */
static void bump(lua_State *L, const char *k)
{
    lua_pushstring(L, k);
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
        lua_Integer n = lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_pushstring(L, k);
        lua_pushinteger(L, n + 1);
        lua_rawset(L, -3);
    } else {
        lua_pop(L, 1);
    }
}

static void count(front_t *f, const rule_t *r, int status)
{
    lua_State *L = f->L;
    if (f->stats_ref != LUA_NOREF && lua_checkstack(L, 4)) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, f->stats_ref);
        if (lua_istable(L, -1)) {
            bump(L, "requests");
            bump(L, "hits");
        }
        lua_pop(L, 1);
    }
    if (f->metric) {
        char st[8];
        const char *by_role[4], *values[4];
        snprintf(st, sizeof st, "%d", status);
        by_role[0] = r->name;
        by_role[1] = r->kind;
        by_role[2] = "hit";
        by_role[3] = st;
        for (int i = 0; i < 4; i++)
            values[i] = by_role[f->label_of[i]];
        pr_metric_add(f->metric, values, 1);
    }
    f->answered++;
}

static int answer(pr_l_http_front_t *base, pr_http_req_t *req)
{
    front_t *f = (front_t *)base;
    view_t q = { 0 };
    const rule_t *r;
    char key[PR_CACHE_KEY_MAX + 1];
    pr_cache_entry_t e;
    int klen, status, handled = 0;

    if (!f->cache || !*f->cache)
        return 0;
    q.method = pr_http_req_method(req);
    q.path = pr_http_req_path(req);
    q.body = pr_http_req_body(req, &q.blen);
    if (q.blen && !(q.doc = pr_json_parse_checked(q.body, q.blen, f->max_depth, f->max_body)))
        return 0;  /* the Lua decoder says what is wrong with it */
    if (!(r = decide(f, &q)) || !r->caches ||
        (klen = cache_key(&q, pr_http_req_query(req), key, sizeof key)) < 0 ||
        pr_cache_get_fresh(*f->cache, key, (size_t)klen, &e) < 0 || e.state != PR_CACHE_FRESH)
        goto out;
    {
        const char *ct = *e.content_type ? e.content_type : "application/json";
        const char *headers[] = { "content-type", ct, "x-perch-route", r->name,
                                  "x-perch-cache", "hit", NULL };
        char *body = NULL;
        status = e.flags ? (int)e.flags : 200;
        if (status < 100 || status > 599 || (e.len && !(body = malloc(e.len))))
            goto out;  /* Lua's answer says what is wrong with it */
        if (e.len)
            memcpy(body, e.value, e.len);
        count(f, r, status);
        pr_http_req_respond(req, status, headers, body, e.len);
        handled = 1;
    }
out:
    cJSON_Delete(q.doc);
    return handled;
}

/* ----------------------------------------------------------- building -- */

static void rules_free(front_t *f)
{
    for (int i = 0; i < f->nrules; i++) {
        rule_t *r = &f->rules[i];
        for (int j = 0; j < r->npreds; j++) {
            pred_t *p = &r->preds[j];
            for (int k = 0; k < p->nnames; k++)
                free(p->names[k]);
            for (int k = 0; k < p->nparts; k++)
                free(p->parts[k].key);
            free(p->names);
            free(p->parts);
            free(p->str);
        }
        free(r->preds);
        free(r->name);
    }
    free(f->rules);
    f->rules = NULL;
    f->nrules = 0;
}

static int front_gc(lua_State *L)
{
    front_t *f = luaL_checkudata(L, 1, PR_L_HTTP_FRONT_MT);
    rules_free(f);
    luaL_unref(L, LUA_REGISTRYINDEX, f->cache_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, f->stats_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, f->metric_ref);
    f->cache_ref = f->stats_ref = f->metric_ref = LUA_NOREF;
    f->cache = NULL;
    return 0;
}

static char *dup_lua(lua_State *L, int idx, size_t *len)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char *d = malloc(n + 1);
    if (!d)
        luaL_error(L, "perch.query.front: out of memory");
    memcpy(d, s, n + 1);
    if (len)
        *len = n;
    return d;
}

static const struct { const char *name; int kind; } pred_kinds[] = {
    { "method", P_METHOD }, { "path", P_PATH }, { "prefix", P_PREFIX },
    { "body_min", P_BODY_MIN }, { "body_max", P_BODY_MAX }, { "json", P_JSON },
    { "battery_below", P_BATTERY_BELOW }, { "battery_above", P_BATTERY_ABOVE },
    { "on_ac", P_ON_AC }, { "opaque", P_OPAQUE },
};

/* The description on top (route.lua's compile_match) into p. */
static void pred_build(lua_State *L, pred_t *p, void *null_ud)
{
    const char *kind;
    int t = lua_gettop(L);
    p->kind = -1;
    if (!lua_istable(L, t) || lua_rawgeti(L, t, 1) != LUA_TSTRING)
        luaL_error(L, "perch.query.front: a condition description is not { kind, ... }");
    kind = lua_tostring(L, -1);
    for (size_t i = 0; i < sizeof pred_kinds / sizeof pred_kinds[0]; i++)
        if (!strcmp(kind, pred_kinds[i].name))
            p->kind = pred_kinds[i].kind;
    if (p->kind < 0)
        luaL_error(L, "perch.query.front: unknown condition '%s'", kind);
    lua_rawgeti(L, t, 2);
    lua_rawgeti(L, t, 3);
    switch (p->kind) {
    case P_METHOD:
    {
        int n;
        luaL_checktype(L, t + 2, LUA_TTABLE);
        n = (int)lua_rawlen(L, t + 2);
        if (!(p->names = calloc((size_t)n + 1, sizeof *p->names)))
            luaL_error(L, "perch.query.front: out of memory");
        /* counted as they are made: a raise leaves what rules_free frees */
        for (int i = 0; i < n; i++, p->nnames++) {
            lua_rawgeti(L, t + 2, i + 1);
            p->names[i] = dup_lua(L, -1, NULL);
            lua_pop(L, 1);
        }
        break;
    }
    case P_PATH:
    case P_PREFIX:
        p->str = dup_lua(L, t + 2, &p->slen);
        if (strlen(p->str) != p->slen)
            p->kind = P_OPAQUE;  /* a NUL: request paths have none, C strings end there */
        break;
    case P_BODY_MIN:
    case P_BODY_MAX:
    case P_BATTERY_BELOW:
    case P_BATTERY_ABOVE:
        p->num = luaL_checknumber(L, t + 2);
        break;
    case P_ON_AC:
        p->flag = lua_toboolean(L, t + 2);
        break;
    case P_JSON:
    {
        int n;
        luaL_checktype(L, t + 2, LUA_TTABLE);
        n = (int)lua_rawlen(L, t + 2);
        if (!(p->parts = calloc((size_t)n + 1, sizeof *p->parts)))
            luaL_error(L, "perch.query.front: out of memory");
        for (int i = 0; i < n; i++, p->nparts++) {
            if (lua_rawgeti(L, t + 2, i + 1) == LUA_TSTRING)
                p->parts[i].key = dup_lua(L, -1, NULL);
            else
                p->parts[i].index = lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        switch (lua_type(L, t + 3)) {
        case LUA_TSTRING:
            p->want = W_STRING;
            p->str = dup_lua(L, t + 3, &p->slen);
            break;
        case LUA_TBOOLEAN:
            p->want = W_BOOL;
            p->flag = lua_toboolean(L, t + 3);
            break;
        case LUA_TNUMBER:
            p->want = W_NUMBER;
            p->num = lua_tonumber(L, t + 3);
            /* A wanted integer past 2^53 has no exact double: Lua's. */
            if (!(fabs(p->num) < EXACT_MAX))
                p->kind = P_OPAQUE;
            break;
        default:
            if (lua_touserdata(L, t + 3) == null_ud && lua_islightuserdata(L, t + 3))
                p->want = W_NULL;
            else
                p->kind = P_OPAQUE;
        }
        break;
    }
    default:
        break;
    }
    lua_settop(L, t);
}

/* front.new{ rules, cache, stats, metric, live_inputs, max_depth, max_body } */
static int l_new(lua_State *L)
{
    front_t *f;
    int nrules;
    lua_Integer depth, body;

    luaL_checktype(L, 1, LUA_TTABLE);
    f = lua_newuserdatauv(L, sizeof *f, 0);
    memset(f, 0, sizeof *f);
    f->cache_ref = f->stats_ref = f->metric_ref = LUA_NOREF;
    luaL_setmetatable(L, PR_L_HTTP_FRONT_MT);
    f->base.answer = answer;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    f->L = lua_tothread(L, -1);
    lua_pop(L, 1);

    lua_getfield(L, 1, "cache");
    if (!(f->cache = pr_l_cache_slot(L, -1)))
        return luaL_error(L, "perch.query.front: 'cache' must be a perch.cache handle");
    f->cache_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (lua_getfield(L, 1, "stats") == LUA_TTABLE)
        f->stats_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else
        lua_pop(L, 1);
    if (lua_getfield(L, 1, "metric") != LUA_TNIL) {
        static const char *const roles[4] = { "route", "kind", "cache", "status" };
        if (!(f->metric = pr_l_metric_family(L, -1)) || pr_metric_nlabels(f->metric) != 4)
            return luaL_error(L, "perch.query.front: 'metric' must be a counter labelled "
                                 "route, kind, cache, status");
        for (int i = 0; i < 4; i++) {
            f->label_of[i] = -1;
            for (int j = 0; j < 4; j++)
                if (!strcmp(pr_metric_label(f->metric, i), roles[j]))
                    f->label_of[i] = j;
            if (f->label_of[i] < 0)
                return luaL_error(L, "perch.query.front: 'metric' must be labelled route, "
                                     "kind, cache, status");
        }
        f->metric_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, 1, "live_inputs");
    f->live_inputs = lua_toboolean(L, -1);
    lua_getfield(L, 1, "max_depth");
    depth = luaL_checkinteger(L, -1);
    lua_getfield(L, 1, "max_body");
    body = luaL_checkinteger(L, -1);
    if (depth < 1 || body < 0)
        return luaL_error(L, "perch.query.front: max_depth >= 1 and max_body >= 0");
    f->max_depth = (int)depth;
    f->max_body = (size_t)body;
    lua_pop(L, 3);

    /* perch.json.null, the light userdata the json conditions compare with */
    lua_getglobal(L, "perch");
    lua_getfield(L, -1, "json");
    lua_getfield(L, -1, "null");
    void *null_ud = lua_touserdata(L, -1);
    lua_pop(L, 3);

    lua_getfield(L, 1, "rules");
    luaL_checktype(L, -1, LUA_TTABLE);
    nrules = (int)lua_rawlen(L, -1);
    if (!(f->rules = calloc((size_t)nrules + 1, sizeof *f->rules)))
        return luaL_error(L, "perch.query.front: out of memory");
    for (int i = 0; i < nrules; i++) {
        rule_t *r = &f->rules[i];
        int npreds;
        f->nrules = i + 1;  /* the calloc'd rule is freeable as it fills */
        lua_rawgeti(L, -1, i + 1);
        luaL_checktype(L, -1, LUA_TTABLE);
        lua_getfield(L, -1, "name");
        r->name = dup_lua(L, -1, NULL);
        lua_getfield(L, -2, "kind");
        snprintf(r->kind, sizeof r->kind, "%s", luaL_checkstring(L, -1));
        lua_getfield(L, -3, "ttl_s");
        r->caches = !strcmp(r->kind, "cache-only") ||
                    (!lua_isnil(L, -1) && (!strcmp(r->kind, "local") || !strcmp(r->kind, "upstream")));
        lua_pop(L, 3);
        lua_getfield(L, -1, "preds");
        luaL_checktype(L, -1, LUA_TTABLE);
        npreds = (int)lua_rawlen(L, -1);
        if (!(r->preds = calloc((size_t)npreds + 1, sizeof *r->preds)))
            return luaL_error(L, "perch.query.front: out of memory");
        for (int j = 0; j < npreds; j++) {
            r->npreds = j + 1;
            lua_rawgeti(L, -1, j + 1);
            pred_build(L, &r->preds[j], null_ud);
            lua_pop(L, 1);
        }
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    return 1;
}

/* front:stats() -> answered */
static int l_answered(lua_State *L)
{
    front_t *f = luaL_checkudata(L, 1, PR_L_HTTP_FRONT_MT);
    lua_pushinteger(L, (lua_Integer)f->answered);
    return 1;
}

static int luaopen_query_front(lua_State *L)
{
    static const luaL_Reg methods[] = { { "answered", l_answered }, { NULL, NULL } };
    if (luaL_newmetatable(L, PR_L_HTTP_FRONT_MT)) {
        lua_pushcfunction(L, front_gc);
        lua_setfield(L, -2, "__gc");
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "new");
    return 1;
}

void pr_l_query_front_preload(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_query_front);
    lua_setfield(L, -2, "perch.query.front");
    lua_pop(L, 1);
}
