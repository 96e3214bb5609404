/* error.h - perch's error codes: one private negative range, one strerror.
 *
 * Every runtime function that can fail returns int: 0 on success, a negative
 * PR_E* code on failure.  Codes above -PR_EBASE are negated errno values, so a
 * system failure is carried through unchanged (-ENOENT) and pr_strerror()
 * describes both kinds.  Library errors (LMDB, curl, turbojpeg) keep their
 * own message and are logged where they happen. */
#ifndef PR_ERROR_H
#define PR_ERROR_H

#define PR_OK       0
#define PR_EBASE    10000
#define PR_EINVAL   (-(PR_EBASE + 1))  /* bad argument from the caller */
#define PR_ENOMEM   (-(PR_EBASE + 2))  /* allocation failed or ceiling reached */
#define PR_EFULL    (-(PR_EBASE + 3))  /* ring or pool has no room (reject mode) */
#define PR_EEMPTY   (-(PR_EBASE + 4))  /* nothing to read */
#define PR_ETOOBIG  (-(PR_EBASE + 5))  /* record larger than the container allows */
#define PR_ESCRIPT  (-(PR_EBASE + 6))  /* a Lua script failed (logged with file:line) */
#define PR_EBUDGET  (-(PR_EBASE + 7))  /* a callback ran past its instruction budget */
#define PR_EDISABLED (-(PR_EBASE + 8)) /* callback disabled after repeated failures */
#define PR_ECLOSED  (-(PR_EBASE + 9))  /* handle already closed */
#define PR_ELAST    (-(PR_EBASE + 10))

/* Describe err (a PR_E* code or a negated errno).  Returns a static string;
 * never NULL. */
const char *pr_strerror(int err);

#endif
