/* error.c - the single place that turns PR_E* codes and errno into text. */
#include "error.h"

#include <string.h>

static const char *const messages[] = {
    "invalid argument",
    "out of memory",
    "no room (full)",
    "empty",
    "record too large",
    "script error",
    "instruction budget exceeded",
    "callback disabled after repeated failures",
    "handle is closed",
};

const char *pr_strerror(int err)
{
    if (err == 0)
        return "success";
    if (err <= -(PR_EBASE + 1) && err > PR_ELAST)
        return messages[-err - PR_EBASE - 1];
    if (err < 0 && err > -PR_EBASE)
        return strerror(-err);
    return "unknown error";
}
