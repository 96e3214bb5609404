/* l_http_front.h - a C fast path in front of a Lua HTTP route.
 *
 *   srv:route("POST", "/v1/query", handler, front)
 *
 * A front is a userdata (metatable PR_L_HTTP_FRONT_MT) that starts with
 * pr_l_http_front_t.  When a request for the route is in, the server asks
 * the front first: it may answer the request itself (pr_http_req_respond)
 * and the Lua handler never runs, or leave it to the handler, which must
 * then give the same answer the front would have given (the front is an
 * optimisation, never a second behaviour).  perch.query's front serves
 * fresh cache hits this way (l_query_front.c). */
#ifndef PR_L_HTTP_FRONT_H
#define PR_L_HTTP_FRONT_H

#include "http_server.h"

#define PR_L_HTTP_FRONT_MT "perch.http.front"

typedef struct pr_l_http_front pr_l_http_front_t;
struct pr_l_http_front {
    /* 1: answered; 0: the route's handler takes the request.  On the loop
     * thread, outside any Lua call; must not raise. */
    int (*answer)(pr_l_http_front_t *f, pr_http_req_t *req);
};

#endif
