/* config.h - reading the values of --set keys in C: one strict number
 * parser shared by every module that takes options (device, sampler,
 * reloader), so they all refuse the same things. */
#ifndef PR_CONFIG_H
#define PR_CONFIG_H

/* A finite decimal number in [lo, hi] and nothing else (no empty string, no
 * trailing text, no inf/nan).  0 with *out set, or -1 with *out untouched. */
int pr_config_num(const char *s, double lo, double hi, double *out);

#endif
